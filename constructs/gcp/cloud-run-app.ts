import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { CloudRunV2Service, type CloudRunV2ServiceTemplateContainersEnv } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import type { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import type { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { suppress } from "../../policies/suppress";
import { Sleep as TimeSleep } from "@cdktf/provider-time/lib/sleep";
import { RULE_IDS } from "../../policies/rule-ids";

/** A secret given to the container as an environment variable, by Secret Manager reference. */
export interface CloudRunSecretEnv {
  readonly secret: SecretManagerSecret;
  /** The version to read; a new version rolls a new revision. */
  readonly version: SecretManagerSecretVersion;
}

export interface CloudRunAppProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  readonly region: string;
  /** Service name. */
  readonly name: string;
  /**
   * Id of the service's own service account (6 to 30 characters).
   * @default - the service name followed by -run
   */
  readonly accountId?: string;
  /** Image by digest (`...@sha256:...`), so that a new image is a new revision. */
  readonly image: string;
  /** Path of the startup and liveness probes. */
  readonly healthPath: string;
  /**
   * Port the container listens on; Cloud Run passes it as PORT.
   * @default 8080
   */
  readonly containerPort?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** vCPUs: 1, 2, 4 or 8. @default 1 */
  readonly cpu?: number;
  /** @default 0 */
  readonly minInstances?: number;
  /** @default 2 */
  readonly maxInstances?: number;
  /** Plain environment variables. @default - none */
  readonly env?: Record<string, string>;
  /** Secret environment variables, read from Secret Manager by the service account. @default - none */
  readonly secretEnv?: Record<string, CloudRunSecretEnv>;
  /** Cloud SQL instances (connection names) mounted under /cloudsql. @default - none */
  readonly cloudSqlInstances?: string[];
  /** Route a client's requests to the same instance (Streamlit's websocket sessions). @default false */
  readonly sessionAffinity?: boolean;
  /** @default true */
  readonly deletionProtection?: boolean;
  /**
   * Let anyone call the service (`allUsers` gets `roles/run.invoker`); otherwise callers
   * need an identity token from an account that was granted the role.
   * @default false
   */
  readonly allowPublicAccess?: boolean;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/** Cloud Run's limits: memory a number of vCPUs allows, and memory a number of vCPUs needs. */
export function cloudRunMemoryProblem(memoryMiB: number, cpu: number): string | undefined {
  const minCpu = memoryMiB > 24576 ? 8 : memoryMiB > 16384 ? 6 : memoryMiB > 8192 ? 4 : memoryMiB > 4096 ? 2 : 1;
  if (cpu < minCpu) return `needs at least ${minCpu} vCPUs on Cloud Run for ${memoryMiB} MiB, got ${cpu}`;
  const minMemory = cpu >= 6 ? 4096 : cpu >= 4 ? 2048 : 512;
  if (memoryMiB < minMemory) return `needs at least ${minMemory} MiB on Cloud Run for ${cpu} vCPUs, got ${memoryMiB} MiB`;
  return undefined;
}

const CLOUDSQL_VOLUME = "cloudsql";

/**
 * A Cloud Run (v2) service running as its own service account, which holds exactly what the
 * service uses: `roles/cloudsql.client` when a Cloud SQL instance is mounted, and
 * `roles/secretmanager.secretAccessor` on each secret it reads, nothing project-wide else.
 * The revision is created after the grants have had time to take effect.
 */
export class CloudRunApp extends Construct {
  readonly serviceAccount: ServiceAccount;
  readonly service: CloudRunV2Service;
  /** The grants the service account needs before the first revision starts. */
  readonly grants: ITerraformDependable[];
  /** `allUsers` as invoker, when public access was asked for. */
  readonly publicInvoker?: CloudRunV2ServiceIamMember;
  /** `https://<name>-<hash>.<region>.run.app` */
  readonly url: string;
  private readonly props: CloudRunAppProps;

  constructor(scope: Construct, id: string, props: CloudRunAppProps) {
    super(scope, id);
    this.props = props;
    if (!/^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/.test(props.name)) {
      throw new Error(`${this.node.path}: name must be up to 49 lowercase letters, digits and dashes, starting with a letter, got ${JSON.stringify(props.name)}`);
    }
    const cpu = props.cpu ?? 1;
    if (![1, 2, 4, 8].includes(cpu)) throw new Error(`${this.node.path}: cpu must be 1, 2, 4 or 8, got ${cpu}`);
    const memoryMiB = props.memoryMiB ?? 512;
    if (!Number.isInteger(memoryMiB) || memoryMiB < 512 || memoryMiB > 32768) {
      throw new Error(`${this.node.path}: memoryMiB must be a whole number of MiB between 512 and 32768, got ${memoryMiB}`);
    }
    const problem = cloudRunMemoryProblem(memoryMiB, cpu);
    if (problem !== undefined) throw new Error(`${this.node.path}: memoryMiB ${problem}`);
    const minInstances = props.minInstances ?? 0;
    const maxInstances = props.maxInstances ?? 2;
    if (!Number.isInteger(minInstances) || minInstances < 0) {
      throw new Error(`${this.node.path}: minInstances must be a whole number of at least 0, got ${minInstances}`);
    }
    if (!Number.isInteger(maxInstances) || maxInstances < 1) {
      throw new Error(`${this.node.path}: maxInstances must be a whole number of at least 1, got ${maxInstances}`);
    }
    if (minInstances > maxInstances) {
      throw new Error(`${this.node.path}: minInstances must not exceed maxInstances (${maxInstances}), got ${minInstances}`);
    }
    const containerPort = props.containerPort ?? 8080;
    if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
      throw new Error(`${this.node.path}: containerPort must be between 1 and 65535, got ${containerPort}`);
    }
    const reserved = Object.keys({ ...props.env, ...props.secretEnv }).filter((name) => name === "PORT" || name.startsWith("K_"));
    if (reserved.length > 0) {
      throw new Error(`${this.node.path}: env must not set variables Cloud Run reserves (PORT, K_*), got ${JSON.stringify(reserved[0])}`);
    }

    const accountId = props.accountId ?? `${props.name}-run`;
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(accountId)) {
      throw new Error(`${this.node.path}: accountId must be 6 to 30 lowercase letters, digits and dashes, starting with a letter, got ${JSON.stringify(accountId)}`);
    }
    this.serviceAccount = new ServiceAccount(this, "account", {
      project: props.project,
      accountId,
      displayName: `Cloud Run service ${props.name}`,
      dependsOn: props.dependsOn,
    });

    const grants: ITerraformDependable[] = [];
    const sqlInstances = props.cloudSqlInstances ?? [];
    if (sqlInstances.length > 0) {
      grants.push(
        new ProjectIamMember(this, "cloudsql_client", {
          project: props.project,
          role: "roles/cloudsql.client",
          member: this.serviceAccount.member,
        }),
      );
    }
    const env: CloudRunV2ServiceTemplateContainersEnv[] = Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value }));
    for (const [name, { secret, version }] of Object.entries(props.secretEnv ?? {})) {
      grants.push(
        new SecretManagerSecretIamMember(this, `secret_accessor_${name.toLowerCase()}`, {
          project: props.project,
          secretId: secret.id,
          role: "roles/secretmanager.secretAccessor",
          member: this.serviceAccount.member,
        }),
      );
      env.push({ name, valueSource: { secretKeyRef: { secret: secret.secretId, version: version.version } } });
    }
    this.grants = grants;
    // IAM grants answer before they apply everywhere; Cloud Run checks them when it creates a revision.
    const propagated = grants.length === 0 ? [] : [new TimeSleep(this, "grants_propagation", { createDuration: "30s", dependsOn: grants })];

    this.service = new CloudRunV2Service(this, "service", {
      project: props.project,
      location: props.region,
      name: props.name,
      ingress: "INGRESS_TRAFFIC_ALL",
      deletionProtection: props.deletionProtection ?? true,
      labels: { course: "week" },
      template: {
        serviceAccount: this.serviceAccount.email,
        sessionAffinity: props.sessionAffinity ?? false,
        scaling: { minInstanceCount: minInstances, maxInstanceCount: maxInstances },
        volumes: sqlInstances.length === 0 ? undefined : [{ name: CLOUDSQL_VOLUME, cloudSqlInstance: { instances: sqlInstances } }],
        containers: [
          {
            image: props.image,
            ports: { containerPort },
            env: env.length === 0 ? undefined : env,
            resources: {
              limits: { cpu: String(cpu), memory: `${memoryMiB}Mi` },
              cpuIdle: true,
              startupCpuBoost: true,
            },
            volumeMounts: sqlInstances.length === 0 ? undefined : [{ name: CLOUDSQL_VOLUME, mountPath: "/cloudsql" }],
            // Up to 2 minutes to start (the API loads its model), then checked every 30 s.
            startupProbe: {
              httpGet: { path: props.healthPath },
              periodSeconds: 5,
              timeoutSeconds: 3,
              failureThreshold: 24,
            },
            livenessProbe: {
              httpGet: { path: props.healthPath },
              periodSeconds: 30,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
          },
        ],
      },
      dependsOn: [...(props.dependsOn ?? []), ...grants, ...propagated],
    });
    this.url = this.service.uri;

    if (props.allowPublicAccess ?? false) {
      this.publicInvoker = this.grantInvoker("public_invoker", "allUsers");
      suppress(this.publicInvoker, RULE_IDS.gcpRunNoPublicInvoke, "gcp.allowPublicAccess is true in the configuration: the service is meant to be opened in a browser without a Google identity");
    }
  }

  /**
   * Lets `member` (`serviceAccount:...`, `user:...`, `allUsers`) call the service.
   * @param scope where the grant is defined (the caller's construct, say). @default this
   */
  grantInvoker(id: string, member: string, scope: Construct = this): CloudRunV2ServiceIamMember {
    return new CloudRunV2ServiceIamMember(scope, id, {
      project: this.props.project,
      location: this.props.region,
      name: this.service.name,
      role: "roles/run.invoker",
      member,
    });
  }
}
