import { argDeclarations, buildsOf, runCommands } from "../dockerfile";
import { describeFindings, scanText } from "../secret-scan";
import { isSecretName, type Finding, type PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** WEEK-DOCKERFILE-003: no secret passes through ARG or ENV (both stay in the image's history). */
export const dockerfileNoSecrets: PolicyRule = {
  id: RULE_IDS.dockerfileNoSecrets,
  statement: "No ARG, ENV or RUN of a Dockerfile carries a secret, by name or by its content: all are kept in the image's history.",
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
        else if (value !== undefined && scanText(value).length > 0) {
          findings.push({ path: build.path, message: `${build.label} declares ${name} with a secret by its content (${describeFindings(scanText(value))})`, fix });
        }
      }
      // What a RUN writes on its command line stays in the image's history too.
      for (const run of runCommands(build)) {
        const found = scanText(run);
        if (found.length > 0) findings.push({ path: build.path, message: `${build.label} has a RUN that holds a secret by its content (${describeFindings(found)})`, fix });
      }
    }
    return findings;
  },
};
