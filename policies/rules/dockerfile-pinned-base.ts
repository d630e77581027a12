import { buildsOf, expand, globalVars, runMountSources, stageVars, type Build } from "../dockerfile";
import { unpinnedReason } from "../image-ref";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

const FIX = "pin the base to a full release or a digest (python:3.11-slim-bookworm, ubuntu:24.04), in the FROM or its ARG default";

/** The images a build pulls: every FROM, COPY --from and RUN --mount=from that is not an earlier stage. */
function pulledImages(build: Build): Array<{ where: string; written: string; ref: string | undefined }> {
  const vars = globalVars(build);
  const pulled: Array<{ where: string; written: string; ref: string | undefined }> = [];
  const stageNames = new Set<string>();
  for (const stage of build.stages) {
    const ref = expand(stage.base, vars);
    if (!stageNames.has((ref ?? stage.base).toLowerCase()) && (ref ?? "").toLowerCase() !== "scratch") {
      pulled.push({ where: "FROM", written: stage.base, ref });
    }
    for (const copy of stage.instructions.filter((i) => i.getKeyword() === "COPY")) {
      const flags = (copy as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }).getFlags?.() ?? [];
      const from = flags.find((f) => f.getName() === "from")?.getValue() ?? undefined;
      if (from === undefined) continue;
      const resolved = expand(from, vars);
      const name = (resolved ?? from).toLowerCase();
      if (stageNames.has(name) || /^\d+$/.test(name)) continue;
      pulled.push({ where: "COPY --from", written: from, ref: resolved });
    }
    stage.instructions.forEach((run, at) => {
      if (run.getKeyword() !== "RUN") return;
      for (const from of runMountSources(run)) {
        const resolved = expand(from, stageVars(build, stage, at));
        const name = (resolved ?? from).toLowerCase();
        if (stageNames.has(name) || /^\d+$/.test(name)) continue;
        pulled.push({ where: "RUN --mount from", written: from, ref: resolved });
      }
    });
    if (stage.name !== undefined) stageNames.add(stage.name);
  }
  return pulled;
}

/** WEEK-DOCKERFILE-001: every build reads a Dockerfile the pack can check, and pulls only pinned images. */
export const dockerfilePinnedBase: PolicyRule = {
  id: RULE_IDS.dockerfilePinnedBase,
  statement:
    "Every image build uses a Dockerfile the pack can read, and every FROM, COPY --from and RUN --mount=from it pulls is pinned to a full release or a digest, with build arguments as the build gives them.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    for (const build of buildsOf(doc)) {
      if (build.unreadable !== undefined) {
        findings.push({ path: build.path, message: build.unreadable, fix: "build from a literal context and Dockerfile path (BuildContext, buildWorkloadImage)" });
        continue;
      }
      for (const { where, written, ref } of pulledImages(build)) {
        if (ref === undefined) {
          findings.push({ path: build.path, message: `${build.label} has ${where} ${JSON.stringify(written)}, whose value depends on a build argument the rule cannot read`, fix: FIX });
          continue;
        }
        const why = unpinnedReason(ref);
        if (why !== undefined) {
          const shown = ref === written ? JSON.stringify(ref) : `${JSON.stringify(written)} (${JSON.stringify(ref)})`;
          findings.push({ path: build.path, message: `${build.label} has ${where} ${shown}, which is not pinned: ${why}`, fix: FIX });
        }
      }
    }
    return findings;
  },
};
