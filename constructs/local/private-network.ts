import { Construct } from "constructs";
import { Network } from "@cdktf/provider-docker/lib/network";

/** The network name of the single-student week: its volumes keep the names the course uses. */
export const DEFAULT_NETWORK_NAME = "week";

export interface PrivateNetworkProps {
  /**
   * Network name, also the prefix of the week's container names and (unless it is the
   * default) of its volume names.
   * @default week
   */
  readonly name?: string;
  /**
   * Publish host ports on every interface instead of loopback only.
   * @default false
   */
  readonly publishOnAllInterfaces?: boolean;
  /**
   * Publish the services' ports on the host at all. A classroom bundle publishes none: its
   * services are reached through the class's proxy only.
   * @default true
   */
  readonly publishPorts?: boolean;
  /**
   * Labels of the network and of every container and volume on it.
   * @default {course: "week"}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The private Docker network the week's containers share; they reach each other by name. */
export class PrivateNetwork extends Construct {
  readonly network: Network;
  readonly name: string;
  /** Address host ports are published on: 127.0.0.1 unless opened. */
  readonly publishAddress: string;
  /** Address to reach published ports from the host. */
  readonly hostAddress = "127.0.0.1";
  /** Whether services on it publish host ports. */
  readonly publishPorts: boolean;
  /** Labels of the network, and of the containers and volumes on it. */
  readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps = {}) {
    super(scope, id);
    this.name = props.name ?? DEFAULT_NETWORK_NAME;
    this.publishAddress = (props.publishOnAllInterfaces ?? false) ? "0.0.0.0" : "127.0.0.1";
    this.publishPorts = props.publishPorts ?? true;
    this.labels = { ...(props.labels ?? { course: "week" }) };
    this.network = new Network(this, "network", {
      name: this.name,
      driver: "bridge",
      labels: labelBlocks(this.labels),
    });
  }

  /**
   * The name of a volume of this network's services: `base` itself on the default network
   * (`database-data`, the name the course uses), else prefixed by the network's name, so a
   * second configuration on the same engine gets its own volumes.
   */
  volumeName(base: string): string {
    return this.name === DEFAULT_NETWORK_NAME ? base : `${this.name}-${base}`;
  }
}

/** Labels as the Docker provider's `labels` blocks. */
export function labelBlocks(labels: Readonly<Record<string, string>>): Array<{ label: string; value: string }> {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
