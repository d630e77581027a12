import { buildsOf } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";
import { RULE_IDS } from "../rule-ids";

/** What ADD fetches instead of reading the context: any URL scheme, an scp-like git address, a host-looking git path. */
const REMOTE = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/|[\w.-]+@[\w.-]+:|[\w.-]+\.[a-z]{2,}[:/].*\.git(#.*)?$)/i;

/** WEEK-DOCKERFILE-006: ADD fetches nothing from the network. */
export const dockerfileNoRemoteAdd: PolicyRule = {
  id: RULE_IDS.dockerfileNoRemoteAdd,
  statement: "No ADD fetches a URL or a git repository: what an image is built from is in its context, or downloaded and verified by a RUN.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    for (const build of buildsOf(doc)) {
      for (const stage of build.stages) {
        for (const add of stage.instructions.filter((i) => i.getKeyword() === "ADD")) {
          const content = (add.getArgumentsContent() ?? "").trim();
          let args: string[];
          try {
            args = content.startsWith("[") ? (JSON.parse(content) as string[]) : (add.getArguments() ?? []).map((a) => a.getValue());
          } catch {
            args = (add.getArguments() ?? []).map((a) => a.getValue());
          }
          // The builder removes the quotes of a shell-form argument: judge the source it reads.
          const sources = args
            .filter((a) => !a.startsWith("--"))
            .slice(0, -1)
            .map((a) => a.replace(/^"(.*)"$/s, "$1").replace(/^'(.*)'$/s, "$1").trim());
          for (const source of sources.filter((s) => s.includes("$"))) {
            findings.push({ path: build.path, message: `${build.label} has ADD ${source}, whose source depends on a variable the rule cannot prove local`, fix: "name the source literally, or COPY it" });
          }
          for (const source of sources.filter((s) => REMOTE.test(s))) {
            findings.push({
              path: build.path,
              message: `${build.label} has ADD ${source}, which fetches from the network at build time`,
              fix: "vendor it into the build context, or download it in a RUN that checks its sha256",
            });
          }
        }
      }
    }
    return findings;
  },
};
