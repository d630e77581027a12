import { resources } from "../document";
import { containerOfTerraform, hostControlFindings } from "../container";
import type { Finding, PolicyRule } from "../rule";

/** WEEK-DOCKER-004: nothing hands a container the host. */
export const dockerNoHostControl: PolicyRule = {
  id: "WEEK-DOCKER-004",
  statement:
    "No container is privileged, runs as root by its user setting, shares a host namespace (network, pid, ipc, user, cgroup), adds capabilities or devices, bind-mounts a host system path or an engine socket, or turns a security option off.",
  check(doc): Finding[] {
    return resources(doc, "docker_container").flatMap((r) => hostControlFindings(containerOfTerraform(r.path, r.config)));
  },
};
