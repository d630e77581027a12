import { resources } from "../document";
import { containerOfTerraform, limitsFindings } from "../container";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** WEEK-DOCKER-003: every container has a healthcheck, a memory limit and a restart policy. */
export const dockerContainerLimits: PolicyRule = {
  id: RULE_IDS.dockerContainerLimits,
  statement: "Every container has a healthcheck, a memory limit and a restart policy, given as literal values.",
  check(doc): Finding[] {
    return resources(doc, "docker_container").flatMap((r) => limitsFindings(containerOfTerraform(r.path, r.config)));
  },
};
