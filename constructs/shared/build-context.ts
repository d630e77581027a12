import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";

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
 * Only sources are copied (caches, virtual environments and trained models are left out),
 * so the asset hash changes exactly when what the image is built from changes. The hash
 * tags the image, which makes a rebuild visible in a plan.
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

  constructor(scope: Construct, id: string, props: BuildContextProps) {
    super(scope, id);
    if (!fs.existsSync(props.source) || !fs.statSync(props.source).isDirectory()) {
      throw new Error(`${this.node.path}: build context source must be a folder, got ${JSON.stringify(props.source)}`);
    }
    this.source = props.source;
    this.stagedAt = stagingFolder();
    for (const relative of props.include ?? ["."]) {
      const from = path.join(props.source, relative);
      if (!fs.existsSync(from)) {
        throw new Error(`${this.node.path}: build context include names a missing file, got ${JSON.stringify(relative)}`);
      }
      fs.cpSync(from, path.join(this.stagedAt, relative), {
        recursive: true,
        filter: (file) => !isGenerated(path.basename(file)),
      });
    }
    for (const [relative, content] of Object.entries(props.files ?? {})) {
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
