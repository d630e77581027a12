import { buildsOf, expand, finalStage, parentStage, runCommands, stageVars, type Build, type Stage } from "../dockerfile";
import { userProblem } from "../user-spec";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** The user the image runs as, following the stage chain; undefined when it is the base's (root). */
function effectiveUser(build: Build, stage: Stage, seen = new Set<number>()): { written: string; value: string | undefined } | undefined {
  seen.add(stage.index);
  const at = stage.instructions.map((i) => i.getKeyword()).lastIndexOf("USER");
  if (at >= 0) {
    const written = (stage.instructions[at].getArgumentsContent() ?? "").trim();
    return { written, value: expand(written, stageVars(build, stage, at)) };
  }
  const parent = parentStage(build, stage);
  return parent === undefined || seen.has(parent.index) ? undefined : effectiveUser(build, parent, seen);
}

const FIX = "end the stage the build produces with USER <a non-root user> (a literal name or a non-zero uid)";

/** WEEK-DOCKERFILE-002: the image a build produces runs as a non-root user. */
export const dockerfileNonRoot: PolicyRule = {
  id: RULE_IDS.dockerfileNonRoot,
  statement: "The stage an image build produces (its target, or the last stage) runs as a non-root USER, following the stages it is built from.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    for (const build of buildsOf(doc)) {
      if (build.unreadable !== undefined || build.stages.length === 0) continue;
      const stage = finalStage(build);
      if (stage === undefined) {
        findings.push({ path: build.path, message: `${build.label} is built with target ${build.target?.value}, which the rule cannot find or read`, fix: "build a literal target that names a stage" });
        continue;
      }
      const named = stage.name === undefined ? `stage ${stage.index}` : `stage ${stage.name}`;
      const user = effectiveUser(build, stage);
      if (user === undefined) {
        findings.push({ path: build.path, message: `${build.label} runs as root: ${named} has no USER`, fix: FIX });
      } else if (user.value === undefined) {
        findings.push({ path: build.path, message: `${build.label} runs as USER ${user.written}, which depends on a value the rule cannot read`, fix: FIX });
      } else {
        const problem = userProblem(user.value.trim());
        if (problem !== undefined) {
          findings.push({ path: build.path, message: `${build.label} may run as root (${named} has USER ${user.written}${user.written === user.value ? "" : `, that is ${user.value}`}: ${problem})`, fix: FIX });
        }
      }
      // A user created with uid 0, or allowed to share one, is root under another name.
      for (const run of runCommands(build)) {
        if (/\b(useradd|adduser|usermod)\b[^\n&;|]*(\s(-u|--uid)[\s=]*[+-]?0+\b|\s(-o|--non-unique)\b)/.test(run)) {
          findings.push({ path: build.path, message: `${build.label} creates or changes a user with uid 0 or a shared uid`, fix: FIX });
        }
      }
    }
    return findings;
  },
};
