import { Construct } from "constructs";
import { Container } from "@cdktf/provider-docker/lib/container";
import { suppress } from "../../policies/suppress";
import { readCheckedFile } from "../shared/context-filter";
import {
  LOG_DRIVER,
  LOG_OPTIONS,
  RESTART_POLICY,
  terraformEnv,
  type LocalService,
  type ProbeSchedule,
  type ServiceEnv,
  type ServiceBind,
  type ServiceEnvFile,
  type ServiceFile,
  type ServiceHealthcheck,
  type ServiceImage,
  type ServiceVolume,
} from "./local-service";
import { labelBlocks, type PrivateNetwork } from "./private-network";
import { RULE_IDS } from "../../policies/rule-ids";

export interface ServiceContainerProps {
  /** Network the container joins; `alias` is its name there. */
  readonly network: PrivateNetwork;
  /** Name other containers use to reach this one (`database`, `api`, ...); the Compose service's name. */
  readonly alias: string;
  /** The image: pulled by a pinned reference or built from a folder. */
  readonly image: ServiceImage;
  /** Ports published on the host, the service's own first; they bind the network's publish address. */
  readonly ports: ReadonlyArray<{ readonly container: number; readonly host: number }>;
  /** Memory limit in MiB. */
  readonly memoryMiB: number;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /** Host folders mounted read-only. @default - none */
  readonly binds?: readonly ServiceBind[];
  /** How Docker decides the service is healthy. */
  readonly healthcheck: ServiceHealthcheck;
  /** Environment variables and where their values come from. @default - none */
  readonly env?: readonly ServiceEnv[];
  /** Variables read from an env file the user keeps. @default - none */
  readonly envFile?: ServiceEnvFile;
  /** @default - none */
  readonly volumes?: readonly ServiceVolume[];
  /** Project files given to the container when it is created. @default - none */
  readonly files?: readonly ServiceFile[];
  /** Wait for the healthcheck to pass before dependents are created. @default false */
  readonly waitUntilHealthy?: boolean;
  /** Services that must be healthy first. @default - none */
  readonly dependsOn?: readonly ServiceContainer[];
  /**
   * The Docker container's probe interval and wait, instead of the healthcheck's interval and
   * `waitUntilHealthy` (a class probes less often: see StudentBundle).
   * @default - the healthcheck's
   */
  readonly probes?: ProbeSchedule;
}

/**
 * A long-running service on the week's private network, with the settings every one of
 * them needs: a restart policy, a memory limit, a healthcheck, bounded logs, and host
 * ports bound to the network's publish address (127.0.0.1 unless opened).
 *
 * It holds the service's typed description (`description`, which `compose.ts` renders to a
 * Compose service) and renders it to a `docker_container`.
 */
export class ServiceContainer extends Construct {
  readonly container: Container;
  /** The service, described once for every rendering. */
  readonly description: LocalService;
  /** Suppressions of policy rules that the Compose rendering carries too. */
  readonly suppressions: ReadonlyArray<{ readonly ruleId: string; readonly reason: string }>;
  /** URL of the service from the host. */
  readonly hostUrl: string;

  constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    if (props.ports.length === 0) {
      throw new Error(`${this.node.path}: ports must name at least one port, got none`);
    }
    props.ports.forEach((p, i) => {
      for (const [field, port] of [
        [i === 0 ? "containerPort" : `ports[${i}].container`, p.container],
        [i === 0 ? "hostPort" : `ports[${i}].host`, p.host],
      ] as const) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          throw new Error(`${this.node.path}: ${field} must be between 1 and 65535, got ${port}`);
        }
      }
    });
    if (!Number.isInteger(props.memoryMiB) || props.memoryMiB < 64) {
      throw new Error(`${this.node.path}: memoryMiB must be a whole number of at least 64, got ${props.memoryMiB}`);
    }
    this.description = {
      name: props.alias,
      image: props.image,
      env: props.env,
      envFile: props.envFile,
      ports: props.network.publishPorts ? props.ports.map((p) => ({ container: p.container, host: p.host, hostIp: props.network.publishAddress })) : [],
      ...(props.network.publishPorts ? {} : { expose: props.ports.map((p) => p.container) }),
      volumes: props.volumes,
      files: props.files,
      healthcheck: props.healthcheck,
      memoryMiB: props.memoryMiB,
      cpus: props.cpus,
      labels: props.network.labels,
      binds: props.binds,
      dependsOn: props.dependsOn?.map((d) => d.description.name),
      waitUntilHealthy: props.waitUntilHealthy,
    };
    this.container = renderDockerContainer(this, props.network, this.description, props.dependsOn, props.probes);
    const suppressions = [];
    if (props.network.publishPorts && props.network.publishAddress !== "127.0.0.1") {
      const reason = "network.publishOnAllInterfaces is true in the configuration: the teacher opened the ports on purpose";
      suppress(this.container, RULE_IDS.dockerLoopbackPorts, reason);
      suppressions.push({ ruleId: RULE_IDS.dockerLoopbackPorts, reason });
    }
    this.suppressions = suppressions;
    this.hostUrl = props.network.publishPorts
      ? `http://${props.network.hostAddress}:${props.ports[0].host}`
      : `http://${props.alias}:${props.ports[0].container}`;
  }
}

/** The description as the Docker provider's `docker_container` (construct id `container`). */
function renderDockerContainer(
  scope: Construct,
  network: PrivateNetwork,
  service: LocalService,
  dependsOn: readonly ServiceContainer[] = [],
  probes: ProbeSchedule = { interval: service.healthcheck.interval, waitUntilHealthy: service.waitUntilHealthy ?? false },
): Container {
  const env = terraformEnv(service);
  const h = service.healthcheck;
  return new Container(scope, "container", {
    name: `${network.name}-${service.name}`,
    hostname: service.name,
    image: service.image.terraform,
    restart: RESTART_POLICY,
    memory: service.memoryMiB,
    cpus: service.cpus === undefined ? undefined : String(service.cpus),
    labels: service.labels === undefined ? undefined : labelBlocks(service.labels),
    env: env.length > 0 ? env : undefined,
    healthcheck: { test: [...h.test], interval: probes.interval, timeout: h.timeout, retries: h.retries, startPeriod: h.startPeriod },
    logDriver: LOG_DRIVER,
    logOpts: { ...LOG_OPTIONS },
    networksAdvanced: [{ name: network.network.name, aliases: [service.name] }],
    ports: service.ports.map((p) => ({ internal: p.container, external: p.host, ip: p.hostIp, protocol: "tcp" })),
    volumes:
      service.volumes === undefined && service.binds === undefined
        ? undefined
        : [
            ...(service.volumes ?? []).map((v) => ({ volumeName: v.terraformName, containerPath: v.target })),
            ...(service.binds ?? []).map((b) => ({ hostPath: b.source, containerPath: b.target, readOnly: true })),
          ],
    upload: service.files?.map((f) => ({ file: f.target, content: readCheckedFile(scope.node.path, f.source).toString("utf8") })),
    wait: probes.waitUntilHealthy,
    waitTimeout: 120,
    dependsOn: dependsOn.length > 0 ? dependsOn.map((d) => d.container) : undefined,
  });
}
