import * as fs from "fs";
import * as path from "path";
import { DockerfileParser, type Dockerfile } from "dockerfile-ast";
import type { IConstruct } from "constructs";
import { BuildContext } from "../constructs/shared/build-context";

/** The parsed Dockerfile of a build context, with where it came from, or undefined. */
export function dockerfileOf(node: IConstruct): { file: string; dockerfile: Dockerfile } | undefined {
  if (!(node instanceof BuildContext)) return undefined;
  const file = path.join(node.stagedAt, "Dockerfile");
  if (!fs.existsSync(file)) return undefined;
  return { file: `${path.basename(node.source)}/Dockerfile`, dockerfile: DockerfileParser.parse(fs.readFileSync(file, "utf8")) };
}

/** Each RUN instruction's shell text, with continuation lines joined. */
export function runCommands(dockerfile: Dockerfile): string[] {
  return dockerfile
    .getInstructions()
    .filter((i) => i.getKeyword() === "RUN")
    .map((i) => i.getArgumentsContent() ?? "");
}
