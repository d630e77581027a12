/**
 * Reads what `cdktf synth` wrote (manifest.json and each stack's cdk.tf.json), and runs a synth
 * of a checkout into a folder of its own. The review reads the synthesised JSON, never the
 * constructs, so that it sees escape hatches and overrides exactly as Terraform will.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One synthesised stack: its Terraform JSON and the policy annotations of the manifest. */
export interface SynthStack {
  readonly name: string;
  readonly doc: JsonObject;
  /** Info, warning and error annotations of the stack (policy suppressions among them). */
  readonly annotations: readonly { constructPath: string; level: string; message: string }[];
}

/** Reads every stack of a cdktf.out folder. */
export function readSynthOutput(outdir: string): SynthStack[] {
  const manifestFile = path.join(outdir, "manifest.json");
  if (!fs.existsSync(manifestFile)) throw new Error(`no manifest.json in ${outdir}: synth did not run there`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as {
    stacks: Record<string, { name: string; synthesizedStackPath: string; annotations?: SynthStack["annotations"] }>;
  };
  return Object.values(manifest.stacks).map((stack) => ({
    name: stack.name,
    doc: JSON.parse(fs.readFileSync(path.join(outdir, stack.synthesizedStackPath), "utf8")) as JsonObject,
    annotations: (stack.annotations ?? []).map(({ constructPath, level, message }) => ({ constructPath, level, message })),
  }));
}

export interface SynthOptions {
  /** The checkout whose `main.ts` is synthesised. */
  readonly cwd: string;
  /** Absolute path of the configuration file, or undefined for the defaults (week.config.json if present). */
  readonly configFile?: string;
  /** Where cdktf.out goes. */
  readonly outdir: string;
}

/** This checkout's TypeScript loader (`npm run synth`'s), used for a base checkout too, which may predate it. */
const TS_LOADER = path.join(__dirname, "..", "..", "scripts", "ts-cache.js");

/**
 * Runs the app of a checkout as `npm run synth` does (transpile-only), into `outdir`.
 * Throws with synth's own output when it fails (an invalid configuration, a policy finding).
 */
export function synthCheckout({ cwd, configFile, outdir }: SynthOptions): SynthStack[] {
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" };
  if (configFile !== undefined) env.WEEK_CONFIG = configFile;
  else delete env.WEEK_CONFIG;
  try {
    execFileSync(process.execPath, ["-r", TS_LOADER, "main.ts"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    const said = `${e.stderr?.toString() ?? ""}${e.stdout?.toString() ?? ""}`
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("policy "))
      .slice(-8)
      .join("; ");
    throw new Error(`synth failed in ${cwd} with ${configFile ?? "the default configuration"}: ${said}`);
  }
  return readSynthOutput(outdir);
}

/** The commit that `ref` names in the repository at `repoDir`; throws naming the ref otherwise. */
export function resolveCommit(repoDir: string, ref: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repoDir, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
  } catch {
    throw new Error(`--base must name a git commit, got ${JSON.stringify(ref)}`);
  }
}

/**
 * Synthesises git ref `ref` of the repository at `repoDir` in a temporary `git worktree`
 * (node_modules linked from `repoDir`, not installed), then removes the worktree.
 */
export function synthGitRef(repoDir: string, ref: string, configFile: string | undefined, outdir: string): SynthStack[] {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repoDir, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
  const commit = resolveCommit(repoDir, ref);
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "week-review-base-"));
  fs.rmdirSync(tree);
  git("worktree", "add", "--detach", "--quiet", tree, commit);
  try {
    const modules = path.join(tree, "node_modules");
    if (!fs.existsSync(modules)) fs.symlinkSync(path.join(repoDir, "node_modules"), modules, "dir");
    return synthCheckout({ cwd: tree, configFile, outdir });
  } finally {
    try {
      git("worktree", "remove", "--force", tree);
    } catch {
      fs.rmSync(tree, { recursive: true, force: true });
      git("worktree", "prune");
    }
  }
}
