import { dockerfileOf } from "../dockerfile";
import { SECRET_NAME, type Finding, type PolicyRule } from "../rule";

/** WEEK-DOCKERFILE-003: no secret passes through ARG or ENV (both stay in the image's history). */
export const dockerfileNoSecrets: PolicyRule = {
  id: "WEEK-DOCKERFILE-003",
  statement: "No ARG or ENV of a Dockerfile carries a secret: both are kept in the image's history.",
  check(node): Finding[] {
    const found = dockerfileOf(node);
    if (found === undefined) return [];
    const names = [
      ...found.dockerfile.getARGs().map((a) => a.getProperty()?.getName()),
      ...found.dockerfile.getENVs().flatMap((e) => e.getProperties().map((p) => p.getName())),
    ];
    return names
      .filter((name): name is string => name !== undefined && SECRET_NAME.test(name))
      .map((name) => ({ message: `${found.file} declares ${name} as ARG or ENV`, fix: "give secrets at run time (container environment, mounted secret), never at build time" }));
  },
};
