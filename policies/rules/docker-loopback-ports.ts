import { resources } from "../document";
import { containerOfTerraform, portFindings } from "../container";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** WEEK-DOCKER-002: host ports bind to loopback unless the configuration opens them. */
export const dockerLoopbackPorts: PolicyRule = {
  id: RULE_IDS.dockerLoopbackPorts,
  statement: "Published host ports bind to a loopback address unless network.publishOnAllInterfaces opens them.",
  check(doc): Finding[] {
    return resources(doc, "docker_container").flatMap((r) => portFindings(containerOfTerraform(r.path, r.config)));
  },
};
