import { Construct } from "constructs";
import { Network } from "@cdktf/provider-docker/lib/network";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface PrivateNetworkProps {
  /**
   * Network name, also the prefix of the week's container names.
   * @default WEEK_DEFAULTS.network.name
   */
  readonly name?: string;
  /**
   * Publish host ports on every interface instead of loopback only.
   * @default WEEK_DEFAULTS.network.publishOnAllInterfaces
   */
  readonly publishOnAllInterfaces?: boolean;
}

/** The private Docker network the week's containers share; they reach each other by name. */
export class PrivateNetwork extends Construct {
  readonly network: Network;
  readonly name: string;
  /** Address host ports are published on: 127.0.0.1 unless opened. */
  readonly publishAddress: string;
  /** Address to reach published ports from the host. */
  readonly hostAddress = "127.0.0.1";

  constructor(scope: Construct, id: string, props: PrivateNetworkProps = {}) {
    super(scope, id);
    this.name = props.name ?? WEEK_DEFAULTS.network.name;
    this.publishAddress = (props.publishOnAllInterfaces ?? WEEK_DEFAULTS.network.publishOnAllInterfaces) ? "0.0.0.0" : "127.0.0.1";
    this.network = new Network(this, "network", {
      name: this.name,
      driver: "bridge",
      labels: [{ label: "course", value: "week" }],
    });
  }
}
