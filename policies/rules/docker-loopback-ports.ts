import { blocks, resourceOf, type Finding, type PolicyRule } from "../rule";

/** WEEK-DOCKER-002: host ports bind to loopback unless the configuration opens them. */
export const dockerLoopbackPorts: PolicyRule = {
  id: "WEEK-DOCKER-002",
  statement: "Published host ports bind to 127.0.0.1 unless network.publishOnAllInterfaces opens them.",
  check(node): Finding[] {
    const found = resourceOf(node, "docker_container");
    if (found === undefined) return [];
    return blocks(found.config.ports)
      .filter((port) => port.external !== undefined && (port.ip === undefined || port.ip === "0.0.0.0" || port.ip === "::"))
      .map((port) => ({
        message: `host port ${String(port.external)} is published on every interface`,
        fix: 'set ip = "127.0.0.1" (PrivateNetwork does), or opt in with network.publishOnAllInterfaces',
      }));
  },
};
