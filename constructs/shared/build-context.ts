import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { BuildContextError, contentProblem, selectContextFiles, type ContextEntry } from "./context-filter";

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

export interface BuildContextProps {
  /** Folder whose files become the Docker build context. */
  readonly source: string;
  /**
   * What the context admits from the source besides the build files (Dockerfile, heroku.yml):
   * the files and folders its Dockerfile copies (see workload-contexts.ts).
   * @default - nothing but the build files
   */
  readonly include?: readonly ContextEntry[];
  /**
   * Archives the context may hold (relative paths); any other archive is refused.
   * @default - none
   */
  readonly archives?: readonly string[];
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
 * Only what the Dockerfile copies is taken, by allow-list (`include`), with the build files; each
 * file is read once, checked (a regular file with one link, not an archive unless listed, no
 * secret by name or by content, in any encoding: see context-filter.ts) and the bytes checked
 * are the bytes staged. The files written on top (`files`) are checked the same way. A refusal
 * is a BuildContextError: one line naming the file and the kind of secret, never its value.
 * The Heroku build tars this same copy. The asset hash changes exactly when what the image is
 * built from changes; it tags the image, which makes a rebuild visible in a plan.
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
  /** Files under an admitted folder that the allow-list does not admit (left out, relative paths). */
  readonly leftOut: string[];

  constructor(scope: Construct, id: string, props: BuildContextProps) {
    super(scope, id);
    if (!fs.existsSync(props.source) || !fs.statSync(props.source).isDirectory()) {
      throw new Error(`${this.node.path}: build context source must be a folder, got ${JSON.stringify(props.source)}`);
    }
    this.source = props.source;
    this.stagedAt = stagingFolder();
    const selection = selectContextFiles(this.node.path, props.source, props.include ?? [], props.archives ?? []);
    const staged = new Map(selection.files.map((f) => [f.relative, { bytes: f.bytes, mode: f.mode }]));
    for (const [relative, content] of Object.entries(props.files ?? {})) {
      const posix = relative.split(path.sep).join("/");
      const bytes = Buffer.from(content);
      const why = contentProblem(posix, bytes, props.archives ?? [], posix === "Dockerfile");
      if (why !== undefined) throw new BuildContextError(`${this.node.path}: build context refuses the file written as ${posix}: it ${why}`);
      staged.set(posix, { bytes, mode: 0o644 });
    }
    for (const [relative, { bytes, mode }] of staged) {
      const target = path.join(this.stagedAt, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, bytes, { mode });
    }
    this.leftOut = selection.leftOut;
    const asset = new TerraformAsset(this, "asset", { path: this.stagedAt, type: AssetType.DIRECTORY });
    this.path = asset.path;
    this.hash = asset.assetHash;
  }

  /** A short, stable image tag derived from the context hash. */
  get tag(): string {
    return this.hash.slice(0, 12).toLowerCase();
  }
}
