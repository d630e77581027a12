import { argDeclarations, buildsOf } from "../dockerfile";
import { isSecretName, urlUserinfo, type Finding, type PolicyRule } from "../rule";

/** WEEK-DOCKERFILE-003: no secret passes through ARG or ENV (both stay in the image's history). */
export const dockerfileNoSecrets: PolicyRule = {
  id: "WEEK-DOCKERFILE-003",
  statement: "No ARG or ENV of a Dockerfile carries a secret, by name or as URL credentials: both are kept in the image's history.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    const fix = "give secrets at run time (container environment, mounted secret), never at build time";
    for (const build of buildsOf(doc)) {
      const declared: Array<[string, string | undefined]> = [...build.globalArgs];
      for (const stage of build.stages) {
        for (const i of stage.instructions) if (i.getKeyword() === "ARG" || i.getKeyword() === "ENV") declared.push(...argDeclarations(i));
      }
      for (const [name, value] of declared) {
        if (isSecretName(name)) findings.push({ path: build.path, message: `${build.label} declares ${name} as ARG or ENV`, fix });
        else if (value !== undefined && urlUserinfo(value).some((u) => u.password !== undefined || /^(https?|git)$/.test(u.scheme))) {
          findings.push({ path: build.path, message: `${build.label} declares ${name} with a URL holding credentials`, fix });
        }
      }
    }
    return findings;
  },
};
