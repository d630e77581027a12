/**
 * What each workload's build context admits: the sources its Dockerfile copies, and nothing
 * else. A test (build-context.test.ts) reads each Dockerfile's COPY/ADD sources with
 * dockerfile-ast and fails when a source is not admitted here or when an entry here is copied by
 * nothing. Adding a file to an image is a reviewed change to this list and to the Dockerfile.
 */
import { DockerfileParser } from "dockerfile-ast";
import type { ContextEntry } from "./context-filter";

export interface WorkloadContext {
  /** Files and folders the Dockerfile copies (folders with the file types they may hold). */
  readonly admit: readonly ContextEntry[];
  /**
   * Archives the context may hold (relative paths), each a reviewed exception.
   * @default - none
   */
  readonly archives?: readonly string[];
}

/** The prediction API: requirement locks, the app's code, the training code, options and sample (lambdas-src/api/Dockerfile). */
export const API_CONTEXT: WorkloadContext = {
  admit: ["requirements.lock", "requirements-serve.lock", { folder: "app", suffixes: [".py"] }, { folder: "ml", suffixes: [".py", ".csv", ".args"] }],
};

/** The Streamlit app (lambdas-src/streamlit/Dockerfile). */
export const STREAMLIT_CONTEXT: WorkloadContext = {
  admit: ["requirements.lock", "streamlit_app.py", "classifier_client.py"],
};

/** The sandbox's runtime files, copied by the Dockerfile SandboxImage renders. */
export const SANDBOX_CONTEXT: WorkloadContext = {
  admit: ["requirements.lock", "entrypoint.sh", "jupyter_server_config.py"],
};

/**
 * The context paths a Dockerfile's COPY and ADD instructions read (POSIX, normalised, without a
 * trailing slash): every stage, any flag order, JSON form; `--from` copies and heredocs read
 * no context file and are left out.
 */
export function copySources(dockerfile: string): string[] {
  const sources: string[] = [];
  for (const instruction of DockerfileParser.parse(dockerfile).getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword !== "COPY" && keyword !== "ADD") continue;
    const flags = (instruction as unknown as { getFlags(): Array<{ getName(): string }> }).getFlags();
    if (flags.some((f) => f.getName().toLowerCase() === "from")) continue;
    const json = (instruction as unknown as { getJSONStrings(): unknown[] }).getJSONStrings().length > 0;
    // The JSON form is read as JSON (dockerfile-ast's own JSON values drop the spaces inside a string).
    const args = json ? (JSON.parse(instruction.getRawArgumentsContent() ?? "[]") as string[]) : instruction.getArguments().map((a) => a.getValue());
    if (args.some((a) => a.startsWith("<<"))) continue;
    for (const source of args.slice(0, -1)) sources.push(path0(source));
  }
  return sources;
}

function path0(source: string): string {
  const trimmed = source.replace(/^\.\//, "").replace(/\/+$/, "");
  return trimmed === "" ? "." : trimmed;
}

/** Whether `file` is `source` or lies under it (`.` covers everything). */
function covers(source: string, file: string): boolean {
  return source === "." || file === source || file.startsWith(`${source}/`);
}

/**
 * What is wrong between a Dockerfile and the files its context admits (relative paths of the
 * staged files): a COPY source that admits nothing, or a staged file that no COPY reads. The
 * build files (Dockerfile, heroku.yml) are read by the builder, not copied.
 */
export function contextCopyProblems(dockerfile: string, staged: readonly string[], buildFiles: readonly string[] = ["Dockerfile", "heroku.yml"]): string[] {
  const sources = copySources(dockerfile);
  const files = staged.filter((f) => !buildFiles.includes(f));
  const problems: string[] = [];
  for (const source of sources) {
    if (/[*?[]/.test(source)) problems.push(`COPY ${source}: a wildcard source; name the files`);
    else if (!files.some((f) => covers(source, f))) problems.push(`COPY ${source}: the context does not admit it`);
  }
  for (const file of files) if (!sources.some((s) => covers(s, file))) problems.push(`${file}: admitted, but no COPY or ADD reads it`);
  return problems;
}
