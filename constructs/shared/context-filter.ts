/**
 * What a Docker build context may hold, by allow-list: the files a workload's manifest admits
 * (the sources its Dockerfile copies, see workload-contexts.ts), each a regular file with one
 * link (no symbolic link, hard link, pipe, socket or device), none an archive the manifest does
 * not list, and none holding a secret, judged by content (the whole file, in every encoding
 * Python or Node would read it, notebooks' outputs included) by the secret scanner the policy
 * pack uses (policies/secret-scan.ts). A name that only secret files have is refused too,
 * whatever the content. Anything else is refused with one line naming the file: never skipped
 * in silence, never shown.
 */
import * as fs from "fs";
import * as path from "path";
import { herokuDockerfiles } from "../../policies/dockerfile";
import { scanText } from "../../policies/secret-scan";

/** A path for a one-line message: control characters (a line break in a file name) escaped as JSON escapes them. */
export function shownPath(file: string): string {
  return file.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Thrown when a build context would take something it must not: one line, naming the file, never its content. */
export class BuildContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildContextError";
  }
}

/**
 * One entry of a context's allow-list: a file (POSIX path relative to the source), or a folder
 * whose files ending in one of `suffixes` are admitted, at any depth.
 */
export type ContextEntry = string | { readonly folder: string; readonly suffixes: readonly string[] };

/** Folders tools leave beside the sources: never walked. */
const GENERATED_FOLDERS = new Set(["__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", "venv", "node_modules"]);

/** Folders whose content is credentials or history: a file under one is refused. */
const SECRET_DIRS = new Set([".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure", ".git", ".terraform", ".gcloud", "gcloud"]);

/**
 * File names only secret files have: env files (`.env`, `.env~`, `.env-prod`, `#.env#`,
 * `x.env.local`, `.flaskenv`, `.envrc`), secrets files, private keys and keystores, credential
 * stores and client configurations that hold passwords (`.netrc`, `.pgpass`, `pgpass.conf`,
 * `.my.cnf`, `.npmrc`, `.pypirc`, `pip.conf`, `.yarnrc.yml`, kubeconfigs), shell and database
 * histories, Terraform state and variables. Templates (`.example`, `.sample`, `.template`,
 * `.dist`) are judged by content only. The content scan is the rule; this list is a second lock.
 */
const SECRET_FILES: RegExp[] = [
  /(^|[._-])env([._~#-].*)?$/i,
  /^\.?flaskenv$/i,
  /^\.?envrc$/i,
  /^\.?secrets?([._-].*)?$/i,
  /\.secrets?$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)/i,
  /\.(pem|key|p12|pfx|jks|keystore|ppk|p8|der|kdbx|gpg|asc|tfstate|tfvars)([._~-].*)?$/i,
  /^[._]?netrc$/i,
  /^[._]?pgpass(\.conf)?$/i,
  /^[._]?my\.cnf$/i,
  /^\.git-credentials$/i,
  /^[._]?(npmrc|pypirc|yarnrc(\.ya?ml)?|dockercfg|htpasswd|s3cfg|boto|passwd-s3fs|pgservice\.conf)$/i,
  /^pip\.(conf|ini)$/i,
  /kubeconfig/i,
  /^(credentials|client_secrets?.*|service[-_]?account.*|.*[-_]sa[-_]key.*|application_default_credentials)(\..*)?$/i,
  /\.ovpn$/i,
  /_history$/i,
];
const TEMPLATE = /\.(example|sample|template|dist)$/i;

/** Why a file name (relative POSIX path) is one only secret files have, or undefined. */
export function secretNameReason(relative: string): string | undefined {
  const parts = relative.split("/");
  const dir = parts.slice(0, -1).find((p) => SECRET_DIRS.has(p));
  if (dir !== undefined) return `is inside ${dir}/, a folder of credentials`;
  const name = parts.at(-1) ?? "";
  if (TEMPLATE.test(name)) return undefined;
  if (SECRET_FILES.some((p) => p.test(name))) return "has a name only secret files have";
  return undefined;
}

/** Magic numbers of archives and compressed streams (Python reads zips as packages, tar and gz with its standard library). */
const ARCHIVE_MAGIC: Array<[string, number, Buffer]> = [
  ["zip", 0, Buffer.from("PK\x03\x04", "latin1")],
  ["zip", 0, Buffer.from("PK\x05\x06", "latin1")],
  ["zip", 0, Buffer.from("PK\x07\x08", "latin1")],
  ["gzip", 0, Buffer.from([0x1f, 0x8b])],
  ["compress", 0, Buffer.from([0x1f, 0x9d])],
  ["bzip2", 0, Buffer.from("BZh", "latin1")],
  ["xz", 0, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ["lzma", 0, Buffer.from([0x5d, 0x00, 0x00])],
  ["zstd", 0, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ["lz4", 0, Buffer.from([0x04, 0x22, 0x4d, 0x18])],
  ["7z", 0, Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])],
  ["rar", 0, Buffer.from("Rar!\x1a\x07", "latin1")],
  ["ar", 0, Buffer.from("!<arch>\n", "latin1")],
  ["cpio", 0, Buffer.from("07070", "latin1")],
  ["tar", 257, Buffer.from("ustar", "latin1")],
];

/** The kind of archive `bytes` is, or undefined. A zip is found by its end record too (a zip after a prefix still opens). */
export function archiveKind(bytes: Buffer): string | undefined {
  for (const [kind, offset, magic] of ARCHIVE_MAGIC) {
    if (bytes.length >= offset + magic.length && bytes.subarray(offset, offset + magic.length).equals(magic)) return kind;
  }
  const tail = bytes.subarray(Math.max(0, bytes.length - 65557));
  if (tail.includes(Buffer.from("PK\x05\x06", "latin1")) || tail.includes(Buffer.from("PK\x06\x06", "latin1"))) return "zip";
  return undefined;
}

function utf32(bytes: Buffer, littleEndian: boolean): string {
  const out: string[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out.push(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : "\ufffd");
  }
  return out.join("");
}

/** The strings of a JSON document (a notebook's sources and outputs), arrays of strings joined as nbformat joins them. */
function jsonStrings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === "string")) out.push(value.join(""));
    else for (const v of value) jsonStrings(v, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      jsonStrings(v, out);
    }
  }
}

/**
 * Every text a reader could take from `bytes`: as bytes (UTF-8, Latin-1 and other ASCII
 * supersets keep a secret's ASCII bytes as they are), and, when the file holds NUL bytes
 * (ASCII in UTF-16 or UTF-32 always does), as UTF-16 LE/BE at both alignments and UTF-32 LE/BE,
 * with or without a byte order mark; base64 runs of printable text are decoded; a JSON document
 * (a notebook) adds its strings decoded (escapes undone, output lines joined).
 */
export function readableTexts(bytes: Buffer): string[] {
  const texts = [bytes.toString("latin1")];
  if (bytes.includes(0)) {
    for (const offset of [0, 1]) {
      const body = bytes.subarray(offset, offset + ((bytes.length - offset) & ~1));
      texts.push(body.toString("utf16le"));
      texts.push(Buffer.from(body).swap16().toString("utf16le"));
    }
    texts.push(utf32(bytes, true), utf32(bytes, false));
  }
  // Base64 runs (a kubeconfig's client-key-data, an embedded credentials file): a reader decodes them.
  for (const run of texts[0].match(/[A-Za-z0-9+/]{40,}={0,2}/g) ?? []) {
    const decoded = Buffer.from(run, "base64").toString("latin1");
    if (/^[\x09\x0a\x0d\x20-\x7e]*$/.test(decoded.slice(0, 256))) texts.push(decoded);
  }
  for (const text of [...texts]) {
    const trimmed = text.replace(/^[\ufeff\ufffe\s]+/, "");
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) continue;
    let utf8 = trimmed;
    if (text === texts[0]) utf8 = new TextDecoder("utf-8").decode(bytes).replace(/^[\ufeff\s]+/, "");
    try {
      const strings: string[] = [];
      jsonStrings(JSON.parse(utf8), strings);
      texts.push(strings.join("\n"));
    } catch {
      // not JSON: the raw text was scanned
    }
  }
  return texts;
}

/** Findings that are a credential slot (`password=`, `token: `, `user:password@`): their value is judged below. */
const SLOT_KINDS = /^(password-parameter|password-flag|url-password)/;
/**
 * Slot values that stand for a secret rather than hold one: a placeholder (`pass`, `***`,
 * `<password>`, `changeme`), a constant's name in capitals (`PASSWORD`, `URLHERE`), a format or
 * shell expansion (`%s`, `${JUPYTER_TOKEN:-}`, `{password}`).
 */
const PLACEHOLDER = /^(pass|password|passwd|pw|pwd|secret|token|changeme|change-me|example|x{3,}|\*+|\.{3}|<[^<>]*>|\{[^{}]*\}|%[sdr](\\n)?|\$\{[^{}]*\}.*|\$[A-Za-z_][A-Za-z0-9_]*|[A-Z][A-Z_]*)$/;

/**
 * Whether a slot finding in a file holds a secret: not a placeholder; in Python source, only a
 * string literal (`password = conninfo_to_dict(url)` is code, `password = "hunter2"` a secret).
 */
function slotHoldsSecret(text: string, index: number, end: number, python: boolean): boolean {
  const raw = text.slice(index, end).trim();
  const quoted = /^(['"]).*\1$/s.test(raw);
  const value = quoted ? raw.slice(1, -1) : raw;
  if (value === "" || PLACEHOLDER.test(value)) return false;
  if (python && !quoted) return false;
  return true;
}

/**
 * The kinds of secret found in `bytes`, in any of the texts a reader could take from it (never
 * the values). `relative` tells Python source (`.py`), whose unquoted assignments are code.
 */
export function secretKinds(bytes: Buffer, relative = ""): string[] {
  const python = relative.endsWith(".py");
  const kinds = new Set<string>();
  for (const text of readableTexts(bytes)) {
    for (const finding of scanText(text)) {
      if (SLOT_KINDS.test(finding.kind) && !slotHoldsSecret(text, finding.index, finding.end, python)) continue;
      kinds.add(finding.kind);
    }
  }
  return [...kinds].sort();
}

/** What a file is, for a message, when it is not a regular file with one link. */
function irregular(stat: fs.Stats): string | undefined {
  if (stat.isSymbolicLink()) return "a symbolic link (it may point anywhere on the machine)";
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a named pipe";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (!stat.isFile()) return "not a regular file";
  if (stat.nlink > 1) return `a hard link (${stat.nlink} names for the same file, one may be a secret)`;
  return undefined;
}

/**
 * Reads a regular file without following a link or blocking on a pipe, checking what was
 * opened (not what the name pointed to a moment before); `problem` is one line.
 */
export function readRegularFile(file: string, maxBytes?: number): { bytes?: Buffer; mode?: number; problem?: string } {
  const before = fs.lstatSync(file, { throwIfNoEntry: false });
  if (before === undefined) return { problem: "does not exist" };
  const kind = irregular(before);
  if (kind !== undefined) return { problem: `is ${kind}` };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === "EACCES" || code === "EPERM" ? "cannot be read: permission denied" : `cannot be read (${code ?? "unknown error"})` };
  }
  try {
    const stat = fs.fstatSync(fd);
    const opened = irregular(stat);
    if (opened !== undefined) return { problem: `is ${opened}` };
    if (maxBytes !== undefined && stat.size > maxBytes) return { problem: `is ${stat.size} bytes, more than the ${maxBytes} allowed` };
    return { bytes: fs.readFileSync(fd), mode: stat.mode & 0o777 };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The largest file a context takes from a source folder: the week's largest is the 29 KiB
 * sample; a bound keeps the whole-file scan in seconds and a stray dump out of an image (the
 * configured training data, checked against model.maxDataMiB, is written by the construct).
 */
export const MAX_SOURCE_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Files the builders read without a COPY, taken from the source when present: `heroku.yml`
 * (scanned like any file: its `setup.config` would reach the app) and the Dockerfiles (`Dockerfile`
 * and those heroku.yml names), which are checked as files here and judged by the policy pack
 * (WEEK-DOCKERFILE-*), which reads them as the builder does, with the same secret scanner.
 */
export const BUILD_FILES = ["Dockerfile", "heroku.yml"] as const;

/** The Dockerfiles of a source: `Dockerfile` and those its heroku.yml names (relative, POSIX). */
export function dockerfilesOf(source: string): string[] {
  return [...new Set(["Dockerfile", ...herokuDockerfiles(source).map((f) => path.posix.normalize(f))])];
}

export interface ContextFile {
  /** POSIX path relative to the source. */
  readonly relative: string;
  /** The bytes checked, which are the bytes staged. */
  readonly bytes: Buffer;
  /** Permission bits (an entrypoint stays executable). */
  readonly mode: number;
}

export interface ContextSelection {
  readonly files: ContextFile[];
  /** Files under an admitted folder that the allow-list does not admit (left out). */
  readonly leftOut: string[];
}

/**
 * Why `bytes`, staged at `relative`, must not be in a context, or undefined: a secret's name,
 * an archive not listed, a secret in its content (kinds only).
 */
export function contentProblem(relative: string, bytes: Buffer, archives: readonly string[] = [], isDockerfile = false): string | undefined {
  const named = secretNameReason(relative);
  if (named !== undefined) return named;
  const archive = archiveKind(bytes);
  if (archive !== undefined && !archives.includes(relative)) return `is a ${archive} archive, which the context's allow-list does not list (its content cannot be checked)`;
  if (isDockerfile) return undefined;
  const kinds = secretKinds(bytes, relative);
  if (kinds.length > 0) return `holds a secret (${kinds.join(", ")})`;
  return undefined;
}

/**
 * A project file whose content goes into the synthesised document (a container's upload, such as
 * the database's init scripts), read once and checked as a context file is; throws a one-line
 * BuildContextError naming it.
 */
export function readCheckedFile(where: string, file: string): Buffer {
  const { bytes, problem } = readRegularFile(file);
  if (bytes === undefined) throw new BuildContextError(`${where}: refuses ${shownPath(file)}: it ${problem ?? "cannot be read"}`);
  const why = contentProblem(path.basename(file), bytes);
  if (why !== undefined) throw new BuildContextError(`${where}: refuses ${shownPath(file)}: it ${why}`);
  return bytes;
}

/**
 * The files of `source` a build context takes: the build files, and what `entries` admit;
 * throws a BuildContextError naming the first file refused.
 *
 * @param where the construct path, for messages
 * @param archives relative paths of archives the context may hold
 */
export function selectContextFiles(where: string, source: string, entries: readonly ContextEntry[], archives: readonly string[] = []): ContextSelection {
  const files: ContextFile[] = [];
  const leftOut: string[] = [];
  const refuse = (relative: string, problem: string): never => {
    throw new BuildContextError(`${where}: build context refuses ${shownPath(path.join(source, relative))}: it ${problem}`);
  };
  const dockerfiles = dockerfilesOf(source);
  const take = (relative: string) => {
    if (relative.startsWith("../") || relative === ".." || path.isAbsolute(relative)) return refuse(relative, "is outside the source folder");
    const { bytes, mode, problem } = readRegularFile(path.join(source, relative), MAX_SOURCE_FILE_BYTES);
    if (bytes === undefined) return refuse(relative, problem ?? "cannot be read");
    const why = contentProblem(relative, bytes, archives, dockerfiles.includes(relative));
    if (why !== undefined) refuse(relative, why);
    files.push({ relative, bytes, mode: mode ?? 0o644 });
  };
  for (const name of [...BUILD_FILES, ...dockerfiles]) {
    if (files.some((f) => f.relative === name)) continue;
    if (fs.lstatSync(path.join(source, name), { throwIfNoEntry: false }) !== undefined || name !== "Dockerfile" && name !== "heroku.yml") take(name);
  }
  const walk = (relative: string, suffixes: readonly string[]) => {
    const stat = fs.lstatSync(path.join(source, relative), { throwIfNoEntry: false });
    if (stat === undefined) return refuse(relative, "does not exist (the context's allow-list names it)");
    if (!stat.isDirectory()) return refuse(relative, `is ${irregular(stat) ?? "a file"}, where the allow-list names a folder`);
    for (const child of fs.readdirSync(path.join(source, relative)).sort()) {
      const childRelative = `${relative}/${child}`;
      const childStat = fs.lstatSync(path.join(source, childRelative));
      if (childStat.isDirectory()) {
        if (GENERATED_FOLDERS.has(child)) continue;
        walk(childRelative, suffixes);
        continue;
      }
      if (suffixes.some((s) => child.endsWith(s))) take(childRelative);
      else leftOut.push(childRelative);
    }
  };
  for (const entry of entries) {
    if (typeof entry === "string") {
      const relative = path.posix.normalize(entry);
      if (!files.some((f) => f.relative === relative)) take(relative);
    } else {
      walk(path.posix.normalize(entry.folder), entry.suffixes);
    }
  }
  return { files, leftOut };
}
