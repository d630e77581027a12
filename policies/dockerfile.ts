import * as fs from "fs";
import * as path from "path";
import { DockerfileParser, type Dockerfile } from "dockerfile-ast";
import type { IConstruct } from "constructs";
import { BuildContext } from "../constructs/shared/build-context";

type ParsedDockerfile = { file: string; dockerfile: Dockerfile };

/** Read and parsed once per build context, then shared by every Dockerfile rule. */
const parsed = new WeakMap<BuildContext, ParsedDockerfile | undefined>();

/** The parsed Dockerfile of a build context, with where it came from, or undefined. */
export function dockerfileOf(node: IConstruct): ParsedDockerfile | undefined {
  if (!(node instanceof BuildContext)) return undefined;
  if (!parsed.has(node)) {
    const file = path.join(node.stagedAt, "Dockerfile");
    parsed.set(
      node,
      fs.existsSync(file)
        ? { file: `${path.basename(node.source)}/Dockerfile`, dockerfile: DockerfileParser.parse(fs.readFileSync(file, "utf8")) }
        : undefined,
    );
  }
  return parsed.get(node);
}

/** Each RUN instruction's shell text, with continuation lines joined. */
export function runCommands(dockerfile: Dockerfile): string[] {
  return dockerfile
    .getInstructions()
    .filter((i) => i.getKeyword() === "RUN")
    .map((i) => i.getArgumentsContent() ?? "");
}
