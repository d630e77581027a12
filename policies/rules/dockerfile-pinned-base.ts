import { dockerfileOf } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";
import { isPinnedReference } from "./docker-pinned-image";

/** WEEK-DOCKERFILE-001: every FROM names a pinned base (build arguments at their defaults). */
export const dockerfilePinnedBase: PolicyRule = {
  id: "WEEK-DOCKERFILE-001",
  statement: "Every FROM of a generated or workload Dockerfile names a pinned base, its build arguments at their defaults.",
  check(node): Finding[] {
    const found = dockerfileOf(node);
    if (found === undefined) return [];
    const stages = new Set<string>();
    const findings: Finding[] = [];
    for (const from of found.dockerfile.getFROMs()) {
      const image = from.getExpandedArguments()[0]?.getValue() ?? "";
      if (!stages.has(image) && !isPinnedReference(image)) {
        findings.push({ message: `${found.file} builds FROM ${JSON.stringify(image)}, which is not pinned`, fix: "pin the base (python:3.11-slim-bookworm, ubuntu:24.04)" });
      }
      const stage = from.getBuildStage();
      if (stage !== null) stages.add(stage);
    }
    return findings;
  },
};
