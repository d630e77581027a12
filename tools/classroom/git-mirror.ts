/**
 * The students' repositories, read with git itself (no forge API): a bare, blob-less clone per
 * student in a cache folder, fetched again on each run, and read with `git log`.
 *
 * Private repositories: a token in CLASSROOM_GIT_TOKEN is sent as an HTTP header to the host
 * of CLASSROOM_GIT_TOKEN_HOST (default github.com) through git's environment configuration
 * (GIT_CONFIG_COUNT/KEY/VALUE): never in an argv, a URL, a file or a log, and masked in every
 * error. SSH URLs use the caller's ssh agent, or the key named by CLASSROOM_GIT_SSH_KEY.
 * Git never prompts (GIT_TERMINAL_PROMPT=0, ssh BatchMode): a repository it cannot read is an
 * error for that student.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { maskUrl } from "../../config/names";

/** One commit of a branch: full hash and committer date. */
export interface Commit {
  readonly hash: string;
  readonly committedAt: Date;
}

export interface GitEnvironment {
  /** Environment variables of the caller; read for CLASSROOM_GIT_TOKEN, CLASSROOM_GIT_TOKEN_HOST, CLASSROOM_GIT_SSH_KEY. */
  readonly env?: NodeJS.ProcessEnv;
  /** @default 120000 */
  readonly timeoutMs?: number;
}

/** A repository git could not read; the message is one line, with secrets masked. */
export class RepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RepositoryError";
  }
}

/** The environment git runs with: no prompt, no user configuration surprises, the credentials. */
export function gitEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: source.PATH,
    HOME: source.HOME,
    SSH_AUTH_SOCK: source.SSH_AUTH_SOCK,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "true",
    LC_ALL: "C",
  };
  const ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"];
  if (source.CLASSROOM_GIT_SSH_KEY) ssh.push("-o", "IdentitiesOnly=yes", "-i", `'${source.CLASSROOM_GIT_SSH_KEY.replace(/'/g, "'\\''")}'`);
  env.GIT_SSH_COMMAND = ssh.join(" ");
  const token = source.CLASSROOM_GIT_TOKEN;
  if (token) {
    const host = source.CLASSROOM_GIT_TOKEN_HOST ?? "github.com";
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = `http.https://${host}/.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  return env;
}

/** `text` with every secret of `source` (the token, its Basic form) and URL credentials replaced by ***. */
export function maskSecrets(text: string, source: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  const token = source.CLASSROOM_GIT_TOKEN;
  if (token) {
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    for (const secret of [basic, token]) out = out.split(secret).join("***");
  }
  return out.replace(/[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+/g, (url) => maskUrl(url));
}

function run(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv; source: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      const lines = stderr
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !/^(hint|warning):/.test(l));
      const why = (error as { killed?: boolean }).killed ? `timed out after ${options.timeoutMs / 1000} s` : (lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1) ?? error.message.split("\n")[0]);
      reject(new RepositoryError(maskSecrets(`git ${args[0]}: ${why}`, options.source)));
    });
  });
}

const REMOTE = /^(https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)/;

/** Where a repository_url points: a remote URL or a local path (made absolute from `baseDir`). */
export function resolveRepository(url: string, baseDir: string): { remote: string; local: boolean } {
  if (url.startsWith("-")) throw new RepositoryError(`repository_url must not start with a dash, got ${JSON.stringify(maskUrl(url))}`);
  if (REMOTE.test(url)) return { remote: url, local: url.startsWith("file://") };
  return { remote: path.resolve(baseDir, url), local: true };
}

/**
 * Brings the cached bare clone of `url` for `id` up to date (cloning it the first time, again
 * when the URL changed) and returns its folder. Every branch is fetched, pruned and forced.
 */
export async function syncRepository(id: string, url: string, cacheDir: string, baseDir: string, options: GitEnvironment = {}): Promise<string> {
  const source = options.env ?? process.env;
  const o = { env: gitEnv(source), source, timeoutMs: options.timeoutMs ?? 120_000 };
  const { remote, local } = resolveRepository(url, baseDir);
  const dir = path.join(cacheDir, `${id}.git`);
  let current: string | undefined;
  if (fs.existsSync(dir)) current = (await run(["config", "--get", "remote.origin.url"], { ...o, cwd: dir }).catch(() => "")).trim();
  if (current !== remote) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(cacheDir, { recursive: true });
    const filter = local ? [] : ["--filter=blob:none"]; // a local clone copies objects; the filter is for the network
    await run(["clone", "--bare", "--quiet", ...filter, "--", remote, dir], o);
    return dir;
  }
  await run(["fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/heads/*"], { ...o, cwd: dir });
  return dir;
}

/** Every commit reachable from a branch of the clone, with its committer date. */
export async function listCommits(dir: string, options: GitEnvironment = {}): Promise<Commit[]> {
  const source = options.env ?? process.env;
  const out = await run(["log", "--branches", "--format=%H %ct"], { cwd: dir, env: gitEnv(source), source, timeoutMs: options.timeoutMs ?? 120_000 });
  return out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [hash, seconds] = l.split(" ");
      return { hash, committedAt: new Date(Number(seconds) * 1000) };
    });
}

/** The branch tips of the clone (`main` -> hash) and the default branch's. */
export async function readHeads(dir: string, options: GitEnvironment = {}): Promise<{ head?: string; branches: Record<string, string> }> {
  const source = options.env ?? process.env;
  const o = { cwd: dir, env: gitEnv(source), source, timeoutMs: options.timeoutMs ?? 120_000 };
  const out = await run(["for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"], o);
  const branches: Record<string, string> = {};
  for (const line of out.split("\n").filter((l) => l !== "")) {
    const [name, hash] = line.split(" ");
    branches[name] = hash;
  }
  const head = (await run(["rev-parse", "--verify", "--quiet", "HEAD"], o).catch(() => "")).trim();
  return { head: head === "" ? undefined : head, branches };
}
