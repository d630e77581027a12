import { resourceOf, type Finding, type PolicyRule } from "../rule";

/** WEEK-DOCKER-003: every container has a healthcheck, a memory limit and a restart policy. */
export const dockerContainerLimits: PolicyRule = {
  id: "WEEK-DOCKER-003",
  statement: "Every container has a healthcheck, a memory limit and a restart policy.",
  check(node): Finding[] {
    const found = resourceOf(node, "docker_container");
    if (found === undefined) return [];
    const { healthcheck, memory, restart } = found.config as { healthcheck?: { test?: string[] }; memory?: number; restart?: string };
    const missing: Finding[] = [];
    if (healthcheck?.test === undefined || healthcheck.test.length === 0 || healthcheck.test[0] === "NONE") {
      missing.push({ message: "the container has no healthcheck", fix: "give it a healthcheck that asks the service itself" });
    }
    if (memory === undefined || memory <= 0) {
      missing.push({ message: "the container has no memory limit", fix: "set memory (MiB), ServiceContainer's memoryMiB" });
    }
    if (restart === undefined || restart === "no") {
      missing.push({ message: "the container has no restart policy", fix: 'set restart = "unless-stopped"' });
    }
    return missing;
  },
};
