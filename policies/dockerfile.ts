/**
 * The Dockerfiles a document builds, read from where the build reads them: each
 * `docker_image`'s `build.context` and `build.dockerfile` (with its `target` and build
 * arguments), and each `heroku_build`'s source folder with the Dockerfiles its `heroku.yml`
 * names. A build whose context or Dockerfile is an expression, or missing, cannot be checked:
 * WEEK-DOCKERFILE-001 reports it (deny by default).
 */
import * as fs from "fs";
import * as path from "path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { fileOf, resources, type Json, type TerraformDocument } from "./document";
import { isExpression, show, stringOf } from "./value";

/** One stage of a Dockerfile: its base (as written), its name, and its instructions. */
export interface Stage {
  readonly index: number;
  readonly name?: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

export interface Build {
  /** The construct path of the resource that builds. */
  readonly path: string;
  /** `lambdas-src/api/Dockerfile` as a reader knows it, or the path in the document. */
  readonly label: string;
  /** Why the Dockerfile cannot be checked, when it cannot. */
  readonly unreadable?: string;
  readonly stages: Stage[];
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: Map<string, string | undefined>;
  /** Build arguments given by the build (a value that is an expression is undefined: unknown). */
  readonly buildArgs: Map<string, string | undefined>;
  /** The target stage name, an expression (unknown), or undefined for the last stage. */
  readonly target?: { readonly known: boolean; readonly value: string };
}

function parse(text: string): { stages: Stage[]; globalArgs: Map<string, string | undefined> } {
  const instructions = DockerfileParser.parse(text).getInstructions();
  const stages: Stage[] = [];
  const globalArgs = new Map<string, string | undefined>();
  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    if (keyword === "FROM") {
      const args = (instruction.getArguments() ?? []).map((a) => a.getValue()).filter((a) => !a.startsWith("--"));
      const as = args.findIndex((a) => a.toLowerCase() === "as");
      stages.push({ index: stages.length, base: args[0] ?? "", name: as >= 0 ? args[as + 1]?.toLowerCase() : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword === "ARG") for (const [name, value] of argDeclarations(instruction)) globalArgs.set(name, value);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { stages, globalArgs };
}

/**
 * The names and values an ARG or ENV declares, as the builder reads them: `ARG NAME=default
 * OTHER`, `ENV A="x y" B=2`, and the legacy `ENV NAME value with spaces` (dockerfile-ast's
 * properties: quotes and escapes resolved).
 */
export function argDeclarations(instruction: Instruction): Array<[string, string | undefined]> {
  const properties = (instruction as unknown as { getProperties?: () => Array<{ getName(): string; getValue(): string | null }> }).getProperties?.();
  if (properties !== undefined) return properties.map((p) => [p.getName(), p.getValue() ?? undefined]);
  return (instruction.getArguments() ?? []).map((a) => {
    const text = a.getValue();
    const at = text.indexOf("=");
    return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1).replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1")];
  });
}

/**
 * The variables a stage's instruction at `until` sees, as Docker resolves them: the ENVs of
 * the stages it is built FROM (ENV persists across FROM <stage>), its own ARGs (a build
 * argument wins over the default; a bare ARG takes the global ARG's value) and ENVs; an ENV
 * always overrides an ARG of the same name, whichever comes first.
 */
export function stageVars(build: Build, stage: Stage, until: number = stage.instructions.length, seen = new Set<number>()): Map<string, string | undefined> {
  seen.add(stage.index);
  const parent = parentStage(build, stage);
  const env = new Map<string, string | undefined>(parent === undefined || seen.has(parent.index) ? [] : [...inheritedEnv(build, parent, seen)]);
  const args = new Map<string, string | undefined>();
  const globals = globalVars(build);
  const view = () => new Map([...args, ...env]);
  for (const instruction of stage.instructions.slice(0, until)) {
    if (instruction.getKeyword() === "ARG") {
      for (const [name, fallback] of argDeclarations(instruction)) {
        args.set(name, build.buildArgs.has(name) ? build.buildArgs.get(name) : fallback !== undefined ? (expand(fallback, view()) ?? UNKNOWN) : globals.get(name));
      }
    } else if (instruction.getKeyword() === "ENV") {
      for (const [name, value] of argDeclarations(instruction)) env.set(name, value === undefined ? "" : (expand(value, view()) ?? UNKNOWN));
    }
  }
  return view();
}

/** The ENVs a stage leaves to the stages built FROM it. */
function inheritedEnv(build: Build, stage: Stage, seen: Set<number>): Map<string, string | undefined> {
  const vars = stageVars(build, stage, stage.instructions.length, seen);
  const names = new Set<string>();
  const collect = (s: Stage, chain: Set<number>) => {
    chain.add(s.index);
    for (const i of s.instructions) if (i.getKeyword() === "ENV") for (const [name] of argDeclarations(i)) names.add(name);
    const p = parentStage(build, s);
    if (p !== undefined && !chain.has(p.index)) collect(p, chain);
  };
  collect(stage, new Set());
  return new Map([...vars].filter(([name]) => names.has(name)));
}

/** Images a RUN mounts from (`RUN --mount=type=bind,from=image,...`, also cache and secret mounts with from=). */
export function runMountSources(instruction: Instruction): string[] {
  const flags = (instruction as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null; getOptions?: () => Array<{ getName(): string; getValue(): string | null }> }> }).getFlags?.() ?? [];
  const sources: string[] = [];
  for (const flag of flags) {
    if (flag.getName().toLowerCase() !== "mount") continue;
    const options = flag.getOptions?.() ?? [];
    const from = options.find((o) => o.getName().toLowerCase() === "from")?.getValue();
    if (from !== undefined && from !== null) sources.push(from);
    else if (options.length === 0) {
      const m = /(?:^|,)from=([^,]+)/i.exec(flag.getValue() ?? "");
      if (m !== null) sources.push(m[1]);
    }
  }
  return sources;
}

/** A build argument given by an expression: its value is unknown until Terraform runs. */
export const UNKNOWN = "\u0000unknown";

/**
 * Expands `$X`, `${X}`, `${X:-word}`, `${X-word}`, `${X:+word}`, `${X+word}` as Docker does
 * (a variable without a value is unset), or returns undefined when the result depends on a
 * value that is unknown (a build argument given by an expression).
 */
export function expand(text: string, vars: ReadonlyMap<string, string | undefined>): string | undefined {
  let unknownVar = false;
  const out = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced, op, word, bare) => {
    const name = (braced ?? bare) as string;
    const current = vars.get(name);
    if (current === UNKNOWN) {
      unknownVar = true;
      return "";
    }
    const set = current !== undefined;
    const useWord = op === ":-" ? !set || current === "" : op === "-" ? !set : op === ":+" ? set && current !== "" : op === "+" ? set : false;
    if (op === ":-" || op === "-" || op === ":+" || op === "+") {
      if (!useWord) return op.endsWith("-") ? (current as string) : "";
      const inner = expand(word ?? "", vars);
      if (inner === undefined) unknownVar = true;
      return inner ?? "";
    }
    return current ?? "";
  });
  return unknownVar ? undefined : out;
}

export function herokuDockerfiles(source: string): string[] {
  const manifest = path.join(source, "heroku.yml");
  if (!fs.existsSync(manifest)) return ["Dockerfile"];
  const lines = fs.readFileSync(manifest, "utf8").split(/\r?\n/);
  const files: string[] = [];
  let indent = -1;
  for (const line of lines) {
    const docker = /^(\s*)docker:\s*$/.exec(line);
    if (docker !== null) {
      indent = docker[1].length;
      continue;
    }
    if (indent < 0 || line.trim() === "" || line.trim().startsWith("#")) continue;
    const entry = /^(\s*)[\w-]+:\s*["']?([^"'#\s]+)["']?\s*(#.*)?$/.exec(line);
    if (entry === null || entry[1].length <= indent) {
      indent = -1;
      continue;
    }
    files.push(entry[2]);
  }
  return files.length === 0 ? ["Dockerfile"] : files;
}

const cache = new WeakMap<TerraformDocument, Build[]>();

/** Every build of the document, parsed once and shared by the Dockerfile rules. */
export function buildsOf(doc: TerraformDocument): Build[] {
  const cached = cache.get(doc);
  if (cached !== undefined) return cached;
  const builds: Build[] = [];
  const read = (resourcePath: string, context: unknown, dockerfile: unknown, extra: { target?: unknown; buildArgs?: unknown }) => {
    const empty = { stages: [], globalArgs: new Map(), buildArgs: new Map() };
    const label = `${show(context)} ${show(dockerfile ?? "Dockerfile")}`;
    const ctx = stringOf(context);
    const file = stringOf(dockerfile ?? "Dockerfile");
    if (!ctx.known || ctx.value === undefined) {
      builds.push({ path: resourcePath, label, unreadable: `the build context ${show(context)} is an expression the pack cannot read`, ...empty });
      return;
    }
    if (!file.known || file.value === undefined) {
      builds.push({ path: resourcePath, label, unreadable: `the Dockerfile ${show(dockerfile)} is an expression the pack cannot read`, ...empty });
      return;
    }
    const dir = fileOf(doc, ctx.value);
    const absolute = dir === undefined ? undefined : path.resolve(dir, file.value);
    const shown = path.posix.join(ctx.value.replace(/^assets\/[^/]+\/[A-F0-9]+/, "<context>"), file.value);
    if (absolute === undefined || !fs.existsSync(absolute) || !fs.statSync(absolute).isFile()) {
      builds.push({ path: resourcePath, label: shown, unreadable: `the Dockerfile ${shown} is missing where the build reads it`, ...empty });
      return;
    }
    const buildArgs = new Map<string, string | undefined>();
    for (const [name, value] of Object.entries((extra.buildArgs ?? {}) as Json)) {
      buildArgs.set(name, typeof value === "string" && !isExpression(value) ? value : typeof value === "number" ? String(value) : UNKNOWN);
    }
    let target: Build["target"];
    if (extra.target !== undefined) {
      const t = stringOf(extra.target);
      target = t.known ? { known: true, value: String(t.value) } : { known: false, value: show(t.raw) };
    }
    const parsed = parse(fs.readFileSync(absolute, "utf8"));
    const argsAreExpression = extra.buildArgs !== undefined && (typeof extra.buildArgs !== "object" || extra.buildArgs === null);
    builds.push({
      path: resourcePath,
      label: shown,
      ...parsed,
      buildArgs,
      target,
      ...(argsAreExpression ? { unreadable: `the build arguments ${show(extra.buildArgs)} are an expression the pack cannot read` } : {}),
    });
  };
  for (const image of resources(doc, "docker_image")) {
    if (image.config.build === undefined) continue;
    const build = (Array.isArray(image.config.build) ? image.config.build[0] : image.config.build) as Json | string;
    if (typeof build !== "object" || build === null) {
      read(image.path, build, undefined, {});
      continue;
    }
    read(image.path, build.context, build.dockerfile, { target: build.target, buildArgs: build.build_args ?? build.build_arg });
  }
  for (const herokuBuild of resources(doc, "heroku_build")) {
    const source = (herokuBuild.config.source ?? {}) as Json;
    const dir = typeof source.path === "string" && !isExpression(source.path) ? fileOf(doc, source.path) : undefined;
    const files = dir !== undefined && fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? herokuDockerfiles(dir) : ["Dockerfile"];
    for (const file of files) read(herokuBuild.path, source.url !== undefined && source.path === undefined ? source.url : source.path, file, {});
  }
  cache.set(doc, builds);
  return builds;
}

/** The stage a build produces: its target, or the last stage. */
export function finalStage(build: Build): Stage | undefined {
  if (build.target === undefined) return build.stages.at(-1);
  if (!build.target.known) return undefined;
  const name = build.target.value.toLowerCase();
  return build.stages.find((s) => s.name === name) ?? (/^\d+$/.test(name) ? build.stages[Number(name)] : undefined);
}

/** The stage `stage` is built FROM, when its base is an earlier stage. */
export function parentStage(build: Build, stage: Stage): Stage | undefined {
  const base = stage.base.toLowerCase();
  return build.stages.slice(0, stage.index).reverse().find((s) => s.name === base);
}

/** The value of every global ARG as the build sees it: a build argument wins over the default. */
export function globalVars(build: Build): Map<string, string | undefined> {
  const vars = new Map(build.globalArgs);
  for (const [name, value] of build.buildArgs) if (vars.has(name)) vars.set(name, value);
  return vars;
}

/** Each RUN instruction's shell text, with continuation lines joined, for every stage. */
export function runCommands(build: Build): string[] {
  return build.stages.flatMap((s) => s.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => i.getArgumentsContent() ?? ""));
}
