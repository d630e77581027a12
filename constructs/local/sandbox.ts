import { TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { suppress } from "../../policies/suppress";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { GeneratedSecret } from "../shared/generated-secret";
import { literalEnv, runtimeEnv, type ProbeSchedule, type ServiceBind, type ServiceEnv } from "./local-service";
import { labelBlocks, type PrivateNetwork } from "./private-network";
import { SANDBOX_PORT, SandboxImage, type SandboxImageProps } from "./sandbox-image";
import { ServiceContainer } from "./service-container";
import { WEEK_DEFAULTS } from "../../config/defaults";
import { RULE_IDS } from "../../policies/rule-ids";

/** The notebooks' volume on the default network (see PrivateNetwork.volumeName). */
const WORKSPACE_VOLUME = "workspace-data";

export interface SandboxProps extends SandboxImageProps {
  readonly network: PrivateNetwork;
  /** @default WEEK_DEFAULTS.sandbox.hostPort */
  readonly hostPort?: number;
  /** @default WEEK_DEFAULTS.sandbox.memoryMiB */
  readonly memoryMiB?: number;
  /**
   * Refuse to destroy the notebooks' volume.
   * @default WEEK_DEFAULTS.database.protectVolume
   */
  readonly protectVolume?: boolean;
  /**
   * The stack's PostgreSQL URL (`DATABASE_URL`, sensitive), given to notebooks at run time.
   * @default - not set
   */
  readonly databaseUrl?: ServiceEnv;
  /**
   * More ports of the sandbox published on the host (loopback unless the network opens them),
   * for the apps students run in it: Streamlit on 8501, uvicorn on 8080...
   * @default - none
   */
  readonly extraPorts?: ReadonlyArray<{ readonly containerPort: number; readonly hostPort: number }>;
  /**
   * An image shared with other sandboxes (a class runs one image for every student).
   * @default - a SandboxImage built from these props
   */
  readonly image?: SandboxImage;
  /**
   * Jupyter's token, a sensitive Terraform expression.
   * @default - TF_VAR_jupyter_token, or generated
   */
  readonly token?: string;
  /**
   * Add the TF_VAR_git_token and TF_VAR_git_ssh_key variables (one pair per stack).
   * @default true
   */
  readonly gitCredentials?: boolean;
  /** @default - its healthcheck, every 15 s; `terraform apply` does not wait for it */
  readonly probes?: ProbeSchedule;
  /**
   * Jupyter's base URL (`/alice/` behind the class's proxy).
   * @default /
   */
  readonly baseUrl?: string;
  /** More environment variables (a student's git identity, TZ). @default - none */
  readonly env?: readonly ServiceEnv[];
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /** Host folders mounted read-only (the class's course data). @default - none */
  readonly binds?: readonly ServiceBind[];
}

/**
 * TP1's sandbox running: Jupyter Notebook behind a token, notebooks on a named volume so
 * they survive a redeploy, and a git credential that reaches the container only at run time.
 */
export class Sandbox extends Construct {
  readonly image: SandboxImage;
  readonly service: ServiceContainer;
  readonly workspaceVolume: Volume;
  /** Jupyter's token (sensitive): `TF_VAR_jupyter_token`, or generated. */
  readonly token: string;
  /** The URL to open, without the token. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SandboxProps) {
    super(scope, id);
    this.image = props.image ?? new SandboxImage(this, "image", props);
    this.token =
      props.token ??
      new GeneratedSecret(this, "token", {
        variableName: "jupyter_token",
        description: "Jupyter's access token.",
        length: 48,
      }).value;
    const baseUrl = props.baseUrl ?? "/";
    if (!/^\/([a-z0-9-]+\/)*$/.test(baseUrl)) throw new Error(`${this.node.path}: baseUrl must be / or /<segments>/ of a-z, 0-9 and -, got ${JSON.stringify(baseUrl)}`);
    const credentials = (props.gitCredentials ?? true) ? this.gitCredentialEnv() : [];

    const volumeName = props.network.volumeName(WORKSPACE_VOLUME);
    this.workspaceVolume = new Volume(this, "workspace", {
      name: volumeName,
      labels: labelBlocks(props.network.labels),
      lifecycle: { preventDestroy: props.protectVolume ?? WEEK_DEFAULTS.database.protectVolume },
    });
    if (!(props.protectVolume ?? WEEK_DEFAULTS.database.protectVolume)) {
      suppress(this.workspaceVolume, RULE_IDS.statefulDestroyProtection, "database.protectVolume is false in the configuration: the week is being torn down");
    }
    this.service = new ServiceContainer(this, "service", {
      network: props.network,
      alias: "sandbox",
      image: {
        terraform: this.image.image.imageId,
        build: { context: this.image.context.source, dockerfile: "Dockerfile", rendered: this.image.dockerfile },
      },
      ports: [
        { container: SANDBOX_PORT, host: props.hostPort ?? WEEK_DEFAULTS.sandbox.hostPort },
        ...(props.extraPorts ?? []).map((p) => ({ container: p.containerPort, host: p.hostPort })),
      ],
      memoryMiB: props.memoryMiB ?? WEEK_DEFAULTS.sandbox.memoryMiB,
      cpus: props.cpus,
      env: [
        runtimeEnv("JUPYTER_TOKEN", {
          variable: "JUPYTER_TOKEN",
          terraform: this.token,
          required: "set JUPYTER_TOKEN to a long random value, Jupyter never runs without one (README: Compose)",
        }),
        ...credentials,
        ...(baseUrl === "/" ? [] : [literalEnv("JUPYTER_BASE_URL", baseUrl)]),
        ...(props.databaseUrl === undefined ? [] : [props.databaseUrl]),
        ...(props.env ?? []),
      ],
      volumes: [{ name: volumeName, terraformName: this.workspaceVolume.name, target: this.image.workspace }],
      binds: props.binds,
      healthcheck: {
        test: ["CMD", "python", "-c", `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${SANDBOX_PORT}${baseUrl}api', timeout=4)`],
        interval: "15s",
        timeout: "5s",
        retries: 3,
        startPeriod: "30s",
      },
      probes: props.probes,
    });
    this.url = `${this.service.hostUrl}${baseUrl}tree`;
  }

  /** The stack's git credentials, given to the container at run time only. */
  private gitCredentialEnv(): ServiceEnv[] {
    const gitToken = new TerraformVariable(this, "git_token", {
      type: "string",
      default: "",
      nullable: false,
      sensitive: true,
      description: "Token for cloning the course repository over https, passed to the container at run time only.",
    });
    gitToken.overrideLogicalId("git_token");
    const gitSshKey = new TerraformVariable(this, "git_ssh_key", {
      type: "string",
      default: "",
      nullable: false,
      sensitive: true,
      description: "Private key for cloning a git@host:path or ssh:// repository, passed to the container at run time only (TF_VAR_git_ssh_key=\"$(cat ~/.ssh/id_ed25519)\").",
    });
    gitSshKey.overrideLogicalId("git_ssh_key");
    return [
      runtimeEnv("GIT_TOKEN", { variable: "GIT_TOKEN", terraform: gitToken.stringValue }),
      runtimeEnv("GIT_SSH_KEY", { variable: "GIT_SSH_KEY", terraform: gitSshKey.stringValue }),
    ];
  }
}
