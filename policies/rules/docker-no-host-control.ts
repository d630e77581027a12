import { resources } from "../document";
import { containerOfTerraform, hostControlFindings, volumeDriverProblem } from "../container";
import { RULE_IDS } from "../rule-ids";
import type { Finding, PolicyRule } from "../rule";

const VOLUME_FIX = "use Docker's local driver without options: a named volume holds data in Docker's own storage, never a host path";

/** WEEK-DOCKER-004: nothing hands a container the host. */
export const dockerNoHostControl: PolicyRule = {
  id: RULE_IDS.dockerNoHostControl,
  statement:
    "No container is privileged, runs as root by its user setting, shares a host namespace (network, pid, ipc, user, cgroup), adds capabilities or devices, bind-mounts a host system path, a home folder or an engine socket (directly, through a volume's driver options, mount options or another container's volumes), or sets a security option other than no-new-privileges.",
  check(doc): Finding[] {
    const findings = resources(doc, "docker_container").flatMap((r) => hostControlFindings(containerOfTerraform(r.path, r.config)));
    for (const v of resources(doc, "docker_volume")) {
      const problem = volumeDriverProblem(v.config.driver, v.config.driver_opts);
      if (problem !== undefined) findings.push({ path: v.path, message: problem, fix: VOLUME_FIX });
    }
    return findings;
  },
};
