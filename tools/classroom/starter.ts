/**
 * The student edition: the repository's tracked files, with every reference solution replaced
 * by its template (starter/files/<same path>, listed in starter/manifest.json) and the teacher's
 * material dropped; the edition's README walks through TP1-TP5 and the toolkit's README becomes
 * docs/toolkit.md.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface StarterManifest {
  readonly solutions: readonly { readonly path: string; readonly tp: string; readonly what: string }[];
  /** The edition's README. */
  readonly readme: string;
  /** Path prefixes left out of the edition. */
  readonly drop: readonly string[];
}

/** starter/manifest.json of the project at `root`. */
export function readManifest(root: string): StarterManifest {
  return JSON.parse(fs.readFileSync(path.join(root, "starter", "manifest.json"), "utf8")) as StarterManifest;
}

/** Where a solution's template is. */
export function templateOf(root: string, solution: string): string {
  return path.join(root, "starter", "files", solution);
}

/** The project's tracked files (git ls-files), relative paths. */
export function trackedFiles(root: string): string[] {
  return execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
    .split("\0")
    .filter((f) => f !== "");
}

export interface StarterSummary {
  readonly copied: number;
  readonly replaced: readonly string[];
  readonly dropped: number;
}

/** Writes the student edition of the project at `root` into `out` (which must not exist, or be empty). */
export function writeStarter(root: string, out: string): StarterSummary {
  const manifest = readManifest(root);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new Error(`--out must be a new or empty folder, got ${out} (not empty)`);
  const missing = manifest.solutions.filter((s) => !fs.existsSync(templateOf(root, s.path))).map((s) => s.path);
  if (missing.length > 0) throw new Error(`starter/manifest.json lists solutions without a template under starter/files/: ${missing.join(", ")}`);
  const solutions = new Set(manifest.solutions.map((s) => s.path));
  let copied = 0;
  let dropped = 0;
  const put = (rel: string, from: string) => {
    const to = path.join(out, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    fs.chmodSync(to, fs.statSync(from).mode & 0o777);
  };
  for (const rel of trackedFiles(root)) {
    if (manifest.drop.some((prefix) => rel.startsWith(prefix))) {
      dropped++;
      continue;
    }
    if (!fs.existsSync(path.join(root, rel))) continue; // deleted in the work tree
    if (solutions.has(rel)) put(rel, templateOf(root, rel));
    else if (rel === "README.md") put("docs/toolkit.md", path.join(root, rel));
    else {
      put(rel, path.join(root, rel));
      copied++;
    }
  }
  put("README.md", path.join(root, manifest.readme));
  return { copied, replaced: [...solutions], dropped };
}
