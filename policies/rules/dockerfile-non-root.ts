import { argDeclarations, buildsOf, expand, finalStage, globalVars, parentStage, type Build, type Stage } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";

/** The variables a stage's instructions see at `until`: its ARGs (with build arguments) and ENVs. */
function stageVars(build: Build, stage: Stage, until: number): Map<string, string | undefined> {
  const globals = globalVars(build);
  const vars = new Map<string, string | undefined>();
  for (const instruction of stage.instructions.slice(0, until)) {
    if (instruction.getKeyword() === "ARG") {
      for (const [name, fallback] of argDeclarations(instruction)) {
        vars.set(name, build.buildArgs.has(name) ? build.buildArgs.get(name) : fallback !== undefined ? expand(fallback, vars) : globals.get(name));
      }
    } else if (instruction.getKeyword() === "ENV") {
      for (const [name, value] of argDeclarations(instruction)) if (value !== undefined) vars.set(name, expand(value, vars));
    }
  }
  return vars;
}

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
  id: "WEEK-DOCKERFILE-002",
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
        const name = user.value.split(":")[0].trim();
        if (name === "" || name.toLowerCase() === "root" || /^0+$/.test(name)) {
          findings.push({ path: build.path, message: `${build.label} runs as root (${named} has USER ${user.written}${user.written === user.value ? "" : `, that is ${user.value}`})`, fix: FIX });
        }
      }
    }
    return findings;
  },
};
