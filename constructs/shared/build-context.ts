import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { secretReason, selectContextFiles } from "./context-filter";

/** Files that tools leave beside the sources and that never belong in an image. */
const GENERATED = new Set([
  "__pycache__",
  ".pytest_cache",
  ".mypy_cache",
  ".ruff_cache",
  ".venv",
  "venv",
  "node_modules",
  ".DS_Store",
]);
const GENERATED_SUFFIXES = [".pyc", ".joblib", ".sqlite3", ".db"];

let stagingRoot: string | undefined;

/**
 * One folder per process for staged contexts, removed when the process exits
 * (`WEEK_STAGING_DIR` names one that its owner removes, as the test run does).
 */
function stagingFolder(): string {
  if (stagingRoot === undefined) {
    const given = process.env.WEEK_STAGING_DIR;
    if (given !== undefined) {
      fs.mkdirSync(given, { recursive: true });
      stagingRoot = given;
    } else {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "week-contexts-"));
      process.once("exit", () => fs.rmSync(root, { recursive: true, force: true }));
      stagingRoot = root;
    }
  }
  return fs.mkdtempSync(path.join(stagingRoot, "context-"));
}

function isGenerated(name: string): boolean {
  return GENERATED.has(name) || GENERATED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

export interface BuildContextProps {
  /** Folder whose files become the Docker build context. */
  readonly source: string;
  /**
   * Paths, relative to the source, to copy; the rest is left out.
   * @default - the whole folder
   */
  readonly include?: string[];
  /**
   * Files written into the context on top of the source, by path relative to it
   * (a rendered Dockerfile, say).
   * @default - none
   */
  readonly files?: Readonly<Record<string, string>>;
}

/**
 * A Docker build context staged at synth time and shipped as a Terraform asset.
 *
 * Only what the build may read is copied: what the folder's `.dockerignore` admits (Docker's
 * semantics; the Dockerfile, `.dockerignore` and `heroku.yml` are always sent, as Docker sends
 * them), without caches, virtual environments and trained models, and never a file that holds
 * secrets whatever `.dockerignore` says (`.env`, `*.env`, `secrets.*`, `.streamlit/secrets.toml`,
 * private keys, `.netrc`, `.pgpass`, `.git-credentials`, service account keys, `.ssh/`, `.aws/`,
 * Terraform state...: see `context-filter.ts`). Symbolic links are left out. The Heroku build
 * tars this same copy. The asset hash changes exactly when what the image is built from
 * changes; it tags the image, which makes a rebuild visible in a plan.
 */
export class BuildContext extends Construct {
  /** Path of the context, relative to the stack's working directory. */
  readonly path: string;
  /** Content hash of the context. */
  readonly hash: string;
  /** Folder the context was staged in at synth time. */
  readonly stagedAt: string;
  /** Folder the context was made from. */
  readonly source: string;
  /** Paths of the source left out because they hold secrets (a `.env`, a private key...). */
  readonly secretsLeftOut: string[];

  constructor(scope: Construct, id: string, props: BuildContextProps) {
    super(scope, id);
    if (!fs.existsSync(props.source) || !fs.statSync(props.source).isDirectory()) {
      throw new Error(`${this.node.path}: build context source must be a folder, got ${JSON.stringify(props.source)}`);
    }
    this.source = props.source;
    this.stagedAt = stagingFolder();
    for (const relative of props.include ?? ["."]) {
      if (!fs.existsSync(path.join(props.source, relative))) {
        throw new Error(`${this.node.path}: build context include names a missing file, got ${JSON.stringify(relative)}`);
      }
    }
    const selection = selectContextFiles(props.source, props.include ?? ["."], isGenerated);
    for (const file of selection.files) {
      const target = path.join(this.stagedAt, file.relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(file.absolute, target);
    }
    this.secretsLeftOut = selection.secrets.map((s) => s.relative);
    for (const [relative, content] of Object.entries(props.files ?? {})) {
      const why = secretReason(relative.split(path.sep).join("/"));
      if (why !== undefined) throw new Error(`${this.node.path}: files must not add a secret file to a build context, got ${JSON.stringify(relative)} (${why})`);
      const target = path.join(this.stagedAt, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
    }
    const asset = new TerraformAsset(this, "asset", { path: this.stagedAt, type: AssetType.DIRECTORY });
    this.path = asset.path;
    this.hash = asset.assetHash;
  }

  /** A short, stable image tag derived from the context hash. */
  get tag(): string {
    return this.hash.slice(0, 12).toLowerCase();
  }
}
