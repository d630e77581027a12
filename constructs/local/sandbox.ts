import { TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { suppress } from "../../policies/suppress";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { GeneratedSecret } from "../shared/generated-secret";
import { runtimeEnv, type ServiceEnv } from "./local-service";
import type { PrivateNetwork } from "./private-network";
import { SANDBOX_PORT, SandboxImage, type SandboxImageProps } from "./sandbox-image";
import { ServiceContainer } from "./service-container";
import { RULE_IDS } from "../../policies/rule-ids";

/** The notebooks' named volume. */
const WORKSPACE_VOLUME = "workspace-data";

export interface SandboxProps extends SandboxImageProps {
  readonly network: PrivateNetwork;
  /** @default 8000 */
  readonly hostPort?: number;
  /** @default 4096 */
  readonly memoryMiB?: number;
  /**
   * Refuse to destroy the notebooks' volume.
   * @default true
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
    this.image = new SandboxImage(this, "image", props);
    this.token = new GeneratedSecret(this, "token", {
      variableName: "jupyter_token",
      description: "Jupyter's access token.",
      length: 48,
    }).value;
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

    this.workspaceVolume = new Volume(this, "workspace", {
      name: WORKSPACE_VOLUME,
      labels: [{ label: "course", value: "week" }],
      lifecycle: { preventDestroy: props.protectVolume ?? true },
    });
    if (!(props.protectVolume ?? true)) {
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
        { container: SANDBOX_PORT, host: props.hostPort ?? SANDBOX_PORT },
        ...(props.extraPorts ?? []).map((p) => ({ container: p.containerPort, host: p.hostPort })),
      ],
      memoryMiB: props.memoryMiB ?? 4096,
      env: [
        runtimeEnv("JUPYTER_TOKEN", {
          variable: "JUPYTER_TOKEN",
          terraform: this.token,
          required: "set JUPYTER_TOKEN to a long random value, Jupyter never runs without one (README: Compose)",
        }),
        runtimeEnv("GIT_TOKEN", { variable: "GIT_TOKEN", terraform: gitToken.stringValue }),
        runtimeEnv("GIT_SSH_KEY", { variable: "GIT_SSH_KEY", terraform: gitSshKey.stringValue }),
        ...(props.databaseUrl === undefined ? [] : [props.databaseUrl]),
      ],
      volumes: [{ name: WORKSPACE_VOLUME, terraformName: this.workspaceVolume.name, target: this.image.workspace }],
      healthcheck: {
        test: ["CMD", "python", "-c", `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${SANDBOX_PORT}/api', timeout=4)`],
        interval: "15s",
        timeout: "5s",
        retries: 3,
        startPeriod: "30s",
      },
    });
    this.url = `${this.service.hostUrl}/tree`;
  }
}
