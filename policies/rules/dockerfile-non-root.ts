import { dockerfileOf } from "../dockerfile";
import type { Finding, PolicyRule } from "../rule";

/** WEEK-DOCKERFILE-002: the image's last USER is not root. */
export const dockerfileNonRoot: PolicyRule = {
  id: "WEEK-DOCKERFILE-002",
  statement: "The final stage of a Dockerfile switches to a non-root USER.",
  check(node): Finding[] {
    const found = dockerfileOf(node);
    if (found === undefined) return [];
    const instructions = found.dockerfile.getInstructions();
    const lastFrom = instructions.map((i) => i.getKeyword()).lastIndexOf("FROM");
    const users = instructions.slice(lastFrom).filter((i) => i.getKeyword() === "USER");
    const user = users.at(-1)?.getArgumentsContent()?.split(":")[0];
    if (user !== undefined && user !== "root" && user !== "0") return [];
    return [{ message: `${found.file} runs as root`, fix: "end the final stage with USER <a non-root user>" }];
  },
};
