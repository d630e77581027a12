import { resources } from "../document";
import { containerOfTerraform, limitsFindings } from "../container";
import type { Finding, PolicyRule } from "../rule";

/** WEEK-DOCKER-003: every container has a healthcheck, a memory limit and a restart policy. */
export const dockerContainerLimits: PolicyRule = {
  id: "WEEK-DOCKER-003",
  statement: "Every container has a healthcheck, a memory limit and a restart policy, given as literal values.",
  check(doc): Finding[] {
    return resources(doc, "docker_container").flatMap((r) => limitsFindings(containerOfTerraform(r.path, r.config)));
  },
};
