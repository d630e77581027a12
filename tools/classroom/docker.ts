/** The docker CLI, as the teacher's commands use it: JSON answers, one-line errors. */
import { spawnSync } from "child_process";
import { CliError } from "./context";

/** Runs `docker ARGS`; throws a CliError naming the command when it fails. */
export function docker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync("docker", args, { env, encoding: "utf8", timeout: 120000, maxBuffer: 64 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw new CliError("docker is not on the PATH: install Docker, or run this on the class's server");
  if (result.status !== 0) throw new CliError(`docker ${args.slice(0, 2).join(" ")} failed: ${(result.stderr ?? "").trim().split("\n")[0] ?? "no reply"}`);
  return result.stdout;
}

export type DockerKind = "container" | "network" | "volume";

export interface LabelledObject {
  readonly kind: DockerKind;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Containers, networks and volumes labelled `course=<course>`, with their labels. */
export function courseObjects(course: string, env: NodeJS.ProcessEnv = process.env): LabelledObject[] {
  const filter = ["--filter", `label=course=${course}`];
  const read = (kind: DockerKind, args: string[], nameField: string) =>
    docker([...args, ...filter, "--format", `{{${nameField}}}\t{{.Labels}}`], env)
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const [name, labels = ""] = line.split("\t");
        return { kind, name, labels: parseLabels(labels) };
      });
  return [...read("container", ["ps", "-a"], ".Names"), ...read("network", ["network", "ls"], ".Name"), ...read("volume", ["volume", "ls"], ".Name")];
}
