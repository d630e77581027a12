/**
 * Reads and validates the week's configuration before any resource is made.
 *
 * `week.config.json` at the project root is optional; `WEEK_CONFIG=path` names another
 * file, which must then exist. An empty file means "all defaults". The file is read as what
 * it claims to be, strictly: a regular file of at most 1 MiB, UTF-8 (a UTF-8 byte order mark
 * is dropped; UTF-16 is refused), JSON without comments or trailing commas, no key twice in
 * an object, no number that JSON parsers would turn into Infinity or round, an object at the
 * top. Each problem is one line naming the file or the field and the value.
 */
import * as fs from "fs";
import * as path from "path";
import { parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import type { z } from "zod";
import { maskUrl } from "./names";
import { weekConfigSchema, type WeekConfig } from "./schema";

export const DEFAULT_CONFIG_FILE = "week.config.json";

/** Thrown for any invalid configuration; `problems` holds one line per bad field. */
export class WeekConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(problems.length === 1 ? `${source} is invalid: ${problems[0]}` : `${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "WeekConfigError";
  }
}

/** A value for a message: JSON, shortened, with any URL credentials masked (an error never shows a secret). */
function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(typeof value === "string" ? maskUrl(value) : value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A key as a message shows it: plain when it is a plain name, else quoted, escaped and shortened. */
function showKey(key: PropertyKey): string {
  const text = String(key);
  return /^[A-Za-z0-9_$-]{1,64}$/.test(text) ? text : show(text);
}

/** Settings that existed once, with why they went: a configuration that still sets one is told so. */
const REMOVED_SETTINGS: Record<string, string> = {
  "sandbox.deepLearningKernel":
    "was removed: no Python 3.8 can be installed in the sandbox image (docs/course.md, TP1 bonus, adds the kernel by hand)",
  "sandbox.deepLearningPythonVersion": "was removed with sandbox.deepLearningKernel (docs/course.md, TP1 bonus)",
  "sandbox.tensorflowVersion": "was removed with sandbox.deepLearningKernel (docs/course.md, TP1 bonus)",
  "sandbox.scikitLearnVersion": "was removed with sandbox.deepLearningKernel (docs/course.md, TP1 bonus)",
};

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const field = issue.path.map(showKey).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const where = field === "" ? showKey(key) : `${field}.${showKey(key)}`;
      const removed = Object.hasOwn(REMOVED_SETTINGS, where) ? REMOVED_SETTINGS[where] : undefined;
      if (removed !== undefined) return `${where} ${removed}`;
      return `${where} is not a known setting (check its spelling against week.config.schema.json)`;
    });
  }
  return [`${field === "" ? "the configuration" : field} ${issue.message}, got ${show(issue.input)}`];
}

/** Validates an already-parsed value; `source` names it in error messages. */
export function parseWeekConfig(raw: unknown, source = "configuration"): WeekConfig {
  const result = weekConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    throw new WeekConfigError(source, result.error.issues.flatMap(describeIssue));
  }
  return result.data;
}

/** The largest configuration file read: far above any real one, and a bound on what is read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function fileError(source: string, problem: string): WeekConfigError {
  return new WeekConfigError(source, [problem]);
}

const KIND_OF: Array<[keyof fs.Stats, string]> = [
  ["isCharacterDevice", "a character device"],
  ["isBlockDevice", "a block device"],
  ["isFIFO", "a named pipe"],
  ["isSocket", "a socket"],
];

/** Reads at most MAX_CONFIG_BYTES of a regular file, or throws a one-line WeekConfigError. */
export function readBounded(file: string, source: string, named: string | undefined): Buffer | undefined {
  const via = named === undefined ? "" : ` (WEEK_CONFIG=${show(named)})`;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (named !== undefined) throw fileError(source, `WEEK_CONFIG names a file that does not exist, got ${show(named)}`);
      // A dangling link named week.config.json is not "no file".
      if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) throw fileError(source, `is a symbolic link to a file that does not exist${via}`);
      return undefined;
    }
    if (code === "ELOOP") throw fileError(source, `is a symbolic link loop${via}`);
    if (code === "EACCES" || code === "EPERM") throw fileError(source, `cannot be read: permission denied${via}`);
    if (code === "ENOTDIR") throw fileError(source, `is not a path to a file (a part of it is not a folder)${via}`);
    if (code === "ENAMETOOLONG") throw fileError(source, "is a path too long to open");
    throw fileError(source, `cannot be read (${code ?? "unknown error"})${via}`);
  }
  if (stat.isDirectory()) throw fileError(source, `is a folder, not a file${via}`);
  if (!stat.isFile()) {
    const kind = KIND_OF.find(([test]) => (stat[test] as () => boolean).call(stat))?.[1] ?? "not a regular file";
    throw fileError(source, `is ${kind}, not a regular file${via}`);
  }
  if (stat.size > MAX_CONFIG_BYTES) throw fileError(source, `is ${stat.size} bytes, more than the ${MAX_CONFIG_BYTES} a configuration may have${via}`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fileError(source, code === "EACCES" || code === "EPERM" ? `cannot be read: permission denied${via}` : `cannot be read (${code ?? "unknown error"})${via}`);
  }
  try {
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = fs.readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_CONFIG_BYTES) throw fileError(source, `is more than the ${MAX_CONFIG_BYTES} bytes a configuration may have${via}`);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof WeekConfigError) throw error;
    throw fileError(source, `cannot be read (${(error as NodeJS.ErrnoException).code ?? "unknown error"})${via}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** The text of the file: UTF-8, without a byte order mark; refuses UTF-16/32, NUL bytes and invalid UTF-8. */
export function decode(bytes: Buffer, source: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw fileError(source, "is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8");
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw fileError(source, `holds a NUL byte at offset ${nul}${nul <= 1 ? " (UTF-16 or UTF-32 text?); save it as UTF-8" : ""}`);
  }
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw fileError(source, "is not valid UTF-8; save it as UTF-8");
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length} column ${before[before.length - 1].length + 1}`;
}

function fieldOf(node: Node): string {
  const parts: string[] = [];
  for (let n: Node | undefined = node; n?.parent !== undefined; n = n.parent) {
    if (n.parent.type === "property" && n.parent.children?.[1] === n) parts.unshift(String(n.parent.children[0].value));
    else if (n.parent.type === "array") parts.unshift(String(n.parent.children?.indexOf(n)));
  }
  return parts.length === 0 ? "the configuration" : parts.join(".");
}

/** Parses JSON strictly into a value, reporting duplicate keys and numbers that do not survive parsing. */
function parseStrict(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  let tree: Node | undefined;
  try {
    tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch (error) {
    if (error instanceof RangeError) throw fileError(source, "is nested too deeply to read");
    throw error;
  }
  if (errors.length > 0 || tree === undefined) {
    const first = errors[0] ?? { error: 0, offset: 0 };
    throw fileError(source, `is not valid JSON: ${printParseErrorCode(first.error)} at ${lineColumn(text, first.offset)}`);
  }
  const problems: string[] = [];
  const toValue = (node: Node): unknown => {
    switch (node.type) {
      case "object": {
        const value: Record<string, unknown> = {};
        const seen = new Set<string>();
        for (const property of node.children ?? []) {
          const [keyNode, valueNode] = property.children ?? [];
          const key = String(keyNode.value);
          if (seen.has(key)) {
            const where = fieldOf(node);
            problems.push(`${where === "the configuration" ? "the configuration" : where} has the key ${show(key)} twice (again at ${lineColumn(text, keyNode.offset)}): JSON readers disagree on which one wins`);
          }
          seen.add(key);
          Object.defineProperty(value, key, { value: valueNode === undefined ? undefined : toValue(valueNode), enumerable: true, writable: true, configurable: true });
        }
        return value;
      }
      case "array":
        return (node.children ?? []).map(toValue);
      case "number": {
        const raw = text.slice(node.offset, node.offset + node.length);
        const value = Number(raw);
        if (!Number.isFinite(value)) problems.push(`${fieldOf(node)} must be a number JSON can hold, got ${raw}`);
        else if (Number.isInteger(value) && !Number.isSafeInteger(value)) problems.push(`${fieldOf(node)} is too large to be read exactly, got ${raw}`);
        return value;
      }
      default:
        return node.value;
    }
  };
  const value = toValue(tree);
  if (problems.length > 0) throw new WeekConfigError(source, problems);
  return value;
}

/**
 * The configuration file this run reads (absolute): `WEEK_CONFIG` if set, else
 * `week.config.json` in `cwd`, whether it exists or not.
 */
export function weekConfigPath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const named = env.WEEK_CONFIG;
  if (named !== undefined && named.trim() === "") {
    throw fileError("WEEK_CONFIG", `is empty; unset it to read ${DEFAULT_CONFIG_FILE}, or name a file, got ${show(named)}`);
  }
  if (named !== undefined && named.includes("\0")) throw fileError("WEEK_CONFIG", `must be a path, got ${show(named)}`);
  return path.resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
}

/**
 * Loads the configuration for this run.
 *
 * @param env the environment to read `WEEK_CONFIG` from. @default process.env
 * @param cwd where `week.config.json` is looked for. @default process.cwd()
 */
export function loadWeekConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): WeekConfig {
  const named = env.WEEK_CONFIG;
  const file = weekConfigPath(env, cwd);
  const source = path.relative(cwd, file) || file;
  const bytes = readBounded(file, source, named);
  if (bytes === undefined) return parseWeekConfig({}, source);
  const text = decode(bytes, source);
  if (text.trim() === "") return parseWeekConfig({}, source);
  const raw = parseStrict(text, source);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw fileError(source, `must hold a JSON object of settings, got ${show(raw)}`);
  }
  return parseWeekConfig(raw, source);
}

/**
 * `loadWeekConfig` for a command (synth and the scripts): an invalid configuration prints its
 * one-line problems on stderr and exits 1, with no stack trace; any other error is thrown.
 * `check` looks further at the loaded configuration (synth reads model.data) and reports the
 * same way, by throwing a WeekConfigError.
 */
export function loadWeekConfigOrExit(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd(), check?: (config: WeekConfig) => void): WeekConfig {
  try {
    const config = loadWeekConfig(env, cwd);
    check?.(config);
    return config;
  } catch (error) {
    if (!(error instanceof WeekConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
