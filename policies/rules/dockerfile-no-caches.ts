import { dockerfileOf, runCommands } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";

/** WEEK-DOCKERFILE-005: no package cache is left in a layer. */
export const dockerfileNoCaches: PolicyRule = {
  id: "WEEK-DOCKERFILE-005",
  statement: "No package cache is left in a layer: apt lists removed in the same RUN, pip with --no-cache-dir.",
  check(node): Finding[] {
    const found = dockerfileOf(node);
    if (found === undefined) return [];
    const noPipCache = found.dockerfile.getENVs().some((e) => e.getProperties().some((p) => p.getName() === "PIP_NO_CACHE_DIR"));
    const findings: Finding[] = [];
    for (const run of runCommands(found.dockerfile)) {
      if (/\bapt-get\s+(-\S+\s+)*install\b/.test(run) && !run.includes("rm -rf /var/lib/apt/lists")) {
        findings.push({ message: `${found.file} leaves apt lists in a layer`, fix: "end that RUN with && rm -rf /var/lib/apt/lists/*" });
      }
      for (const command of run.split(/&&|;/)) {
        const pip = /\b(pip3?|python3? -m pip)\s+install\b/.test(command);
        const uv = /\buv pip install\b/.test(command);
        if (pip && !uv && !noPipCache && !command.includes("--no-cache-dir")) {
          findings.push({ message: `${found.file} runs "${command.trim()}" with pip's cache`, fix: "add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1)" });
        }
        if (uv && !command.includes("--no-cache")) {
          findings.push({ message: `${found.file} runs "${command.trim()}" with uv's cache`, fix: "add --no-cache" });
        }
      }
    }
    return findings;
  },
};
