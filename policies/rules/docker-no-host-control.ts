import { blocks, resourceOf, type Finding, type PolicyRule } from "../rule";

const DOCKER_SOCKET = /(^|\/)docker\.sock$/;

/** WEEK-DOCKER-004: no privileged container and no mounted Docker socket. */
export const dockerNoHostControl: PolicyRule = {
  id: "WEEK-DOCKER-004",
  statement: "No container is privileged or has the Docker socket mounted (either gives it the host).",
  check(node): Finding[] {
    const found = resourceOf(node, "docker_container");
    if (found === undefined) return [];
    const findings: Finding[] = [];
    if (found.config.privileged === true) {
      findings.push({ message: "the container is privileged", fix: "drop privileged; add only the capabilities it needs" });
    }
    const sources = [
      ...blocks(found.config.volumes).map((v) => v.host_path),
      ...blocks(found.config.mounts).map((m) => m.source),
    ];
    for (const source of sources) {
      if (typeof source === "string" && DOCKER_SOCKET.test(source)) {
        findings.push({ message: `the container mounts the Docker socket ${source}`, fix: "do not mount the Docker socket into a container" });
      }
    }
    return findings;
  },
};
