import { buildsOf, runCommands } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** WEEK-DOCKERFILE-004: apt-get install takes --no-install-recommends. */
export const dockerfileNoRecommends: PolicyRule = {
  id: RULE_IDS.dockerfileNoRecommends,
  level: "warning",
  statement: "Every apt-get install in a Dockerfile uses --no-install-recommends.",
  check(doc): Finding[] {
    return buildsOf(doc).flatMap((build) =>
      runCommands(build)
        .flatMap((run) => run.split(/&&|;|\|\|/))
        .filter((command) => /\bapt-get\s+(-\S+\s+)*install\b/.test(command) && !command.includes("--no-install-recommends"))
        .map((command) => ({ path: build.path, message: `${build.label} runs "${command.trim()}" without --no-install-recommends`, fix: "add --no-install-recommends" })),
    );
  },
};
