import { argDeclarations, buildsOf, runCommands } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** WEEK-DOCKERFILE-005: no package cache is left in a layer. */
export const dockerfileNoCaches: PolicyRule = {
  id: RULE_IDS.dockerfileNoCaches,
  level: "warning",
  statement: "No package cache is left in a layer: apt lists removed in the same RUN, pip with --no-cache-dir.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    for (const build of buildsOf(doc)) {
      const noPipCache = build.stages.some((s) => s.instructions.some((i) => i.getKeyword() === "ENV" && argDeclarations(i).some(([name]) => name === "PIP_NO_CACHE_DIR")));
      for (const run of runCommands(build)) {
        if (/\bapt-get\s+(-\S+\s+)*install\b/.test(run) && !run.includes("rm -rf /var/lib/apt/lists")) {
          findings.push({ path: build.path, message: `${build.label} leaves apt lists in a layer`, fix: "end that RUN with && rm -rf /var/lib/apt/lists/*" });
        }
        for (const command of run.split(/&&|;/)) {
          const pip = /\b(pip3?|python3? -m pip)\s+install\b/.test(command);
          const uv = /\buv pip install\b/.test(command);
          if (pip && !uv && !noPipCache && !command.includes("--no-cache-dir")) {
            findings.push({ path: build.path, message: `${build.label} runs "${command.trim()}" with pip's cache`, fix: "add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1)" });
          }
          if (uv && !command.includes("--no-cache")) {
            findings.push({ path: build.path, message: `${build.label} runs "${command.trim()}" with uv's cache`, fix: "add --no-cache" });
          }
        }
      }
    }
    return findings;
  },
};
