import { Construct } from "constructs";
import { Container, ContainerHealthcheck, ContainerUpload, ContainerVolumes } from "@cdktf/provider-docker/lib/container";
import type { ITerraformDependable } from "cdktf";
import { suppress } from "../../policies/suppress";
import type { PrivateNetwork } from "./private-network";

export interface ServiceContainerProps {
  /** Network the container joins; `alias` is its name there. */
  readonly network: PrivateNetwork;
  /** Name other containers use to reach this one (`database`, `api`, ...). */
  readonly alias: string;
  /** Image id or pinned reference. */
  readonly image: string;
  /** Port the service listens on inside the container. */
  readonly containerPort: number;
  /** Port published on the host. */
  readonly hostPort: number;
  /** Memory limit in MiB. */
  readonly memoryMiB: number;
  /** How Docker decides the service is healthy. */
  readonly healthcheck: ContainerHealthcheck;
  /**
   * Environment, as `NAME=value` strings (Terraform expressions for secrets).
   * @default - none
   */
  readonly env?: string[];
  /** @default - none */
  readonly volumes?: ContainerVolumes[];
  /** Files copied into the container when it is created. @default - none */
  readonly uploads?: ContainerUpload[];
  /** More ports published on the host, at the same address. @default - none */
  readonly extraPorts?: ReadonlyArray<{ readonly containerPort: number; readonly hostPort: number }>;
  /** Wait for the healthcheck to pass before dependents are created. @default false */
  readonly waitUntilHealthy?: boolean;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A long-running service on the week's private network, with the settings every one of
 * them needs: a restart policy, a memory limit, a healthcheck, bounded logs, and host
 * ports bound to the network's publish address (127.0.0.1 unless opened).
 */
export class ServiceContainer extends Construct {
  readonly container: Container;
  /** URL of the service from the host. */
  readonly hostUrl: string;

  constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    const ports: Array<[string, number]> = [
      ["containerPort", props.containerPort],
      ["hostPort", props.hostPort],
      ...(props.extraPorts ?? []).flatMap((p, i): Array<[string, number]> => [
        [`extraPorts[${i}].containerPort`, p.containerPort],
        [`extraPorts[${i}].hostPort`, p.hostPort],
      ]),
    ];
    for (const [field, port] of ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`${this.node.path}: ${field} must be between 1 and 65535, got ${port}`);
      }
    }
    if (!Number.isInteger(props.memoryMiB) || props.memoryMiB < 64) {
      throw new Error(`${this.node.path}: memoryMiB must be a whole number of at least 64, got ${props.memoryMiB}`);
    }
    const name = `${props.network.name}-${props.alias}`;
    this.container = new Container(this, "container", {
      name,
      hostname: props.alias,
      image: props.image,
      restart: "unless-stopped",
      memory: props.memoryMiB,
      env: props.env,
      healthcheck: props.healthcheck,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      networksAdvanced: [{ name: props.network.network.name, aliases: [props.alias] }],
      ports: [
        { internal: props.containerPort, external: props.hostPort, ip: props.network.publishAddress, protocol: "tcp" },
        ...(props.extraPorts ?? []).map((p) => ({ internal: p.containerPort, external: p.hostPort, ip: props.network.publishAddress, protocol: "tcp" })),
      ],
      volumes: props.volumes,
      upload: props.uploads,
      wait: props.waitUntilHealthy ?? false,
      waitTimeout: 120,
      dependsOn: props.dependsOn,
    });
    if (props.network.publishAddress !== "127.0.0.1") {
      suppress(this.container, "WEEK-DOCKER-002", "network.publishOnAllInterfaces is true in the configuration: the teacher opened the ports on purpose");
    }
    this.hostUrl = `http://${props.network.hostAddress}:${props.hostPort}`;
  }
}
