/**
 * Terraform state lives in state/ at the project root, never in cdktf.out (a build folder that
 * `rm -rf cdktf.out` and cdktf itself delete). Real files, in a temporary project folder.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { addWeekStacks } from "../stacks";
import { moveStateOutOfBuild } from "../stacks/state";
import { synthJson, testApp, weekConfig } from "./helpers";

const ROOT = path.join(__dirname, "..");
const STACKS = ["local", "heroku", "gcp"];

/** A Terraform state as Terraform writes it (what matters here: real bytes that must survive). */
const stateText = (serial: number) => `${JSON.stringify({ version: 4, terraform_version: "1.11.4", serial, lineage: "9d1c2b3a", outputs: {}, resources: [] }, null, 2)}\n`;

let project: string;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "week-state-"));
});
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

/** `npm run synth` of this checkout, writing to `<project>/cdktf.out` as the cdktf CLI does. */
function synth() {
  return spawnSync(process.execPath, ["-r", "./scripts/ts-cache.js", "main.ts"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: path.join(project, "cdktf.out"), WEEK_CONFIG: path.join(ROOT, "week.config.example.json") },
  });
}

/** Where Terraform, run in the stack's folder, reads and writes the state of `stack`. */
function backendFile(stack: string): string {
  const doc = JSON.parse(fs.readFileSync(path.join(project, "cdktf.out", "stacks", stack, "cdk.tf.json"), "utf8")) as { terraform: { backend: { local: { path: string } } } };
  return path.resolve(project, "cdktf.out", "stacks", stack, doc.terraform.backend.local.path);
}

describe("Terraform state", () => {
  it("points every stack's backend at state/ at the project root, outside cdktf.out", () => {
    const stackDir = (id: string) => path.join(project, "cdktf.out", "stacks", id);
    const stacks = addWeekStacks(testApp(), weekConfig());
    expect(stacks.map(({ stack }) => stack.node.id)).toEqual(STACKS);
    for (const { stack } of stacks) {
      const backend = (synthJson(stack).terraform as { backend: { local: { path: string; workspace_dir: string } } }).backend.local;
      const file = path.resolve(stackDir(stack.node.id), backend.path);
      expect(file).toBe(path.join(project, "state", `terraform.${stack.node.id}.tfstate`));
      expect(path.relative(path.join(project, "cdktf.out"), file).startsWith("..")).toBe(true);
      expect(path.resolve(stackDir(stack.node.id), backend.workspace_dir)).toBe(path.join(project, "state", `${stack.node.id}.tfstate.d`));
    }
  });

  it("survives rm -rf cdktf.out: synth, state written where the backend points, clean, synth again", () => {
    const first = synth();
    expect(first.status).toBe(0);
    for (const stack of STACKS) {
      fs.mkdirSync(path.dirname(backendFile(stack)), { recursive: true });
      fs.writeFileSync(backendFile(stack), stateText(7));
    }
    fs.rmSync(path.join(project, "cdktf.out"), { recursive: true });
    for (const stack of STACKS) expect(fs.readFileSync(path.join(project, "state", `terraform.${stack}.tfstate`), "utf8")).toBe(stateText(7));
    const again = synth();
    expect(again.status).toBe(0);
    for (const stack of STACKS) expect(fs.readFileSync(backendFile(stack), "utf8")).toBe(stateText(7));
  }, 60000);

  it("moves a state an earlier version left in cdktf.out to state/ on the next synth, with its backup", () => {
    const old = path.join(project, "cdktf.out", "stacks", "heroku");
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, "terraform.heroku.tfstate"), stateText(12));
    fs.writeFileSync(path.join(old, "terraform.heroku.tfstate.backup"), stateText(11));
    const run = synth();
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`moved ${path.relative(ROOT, path.join(old, "terraform.heroku.tfstate"))} to ${path.relative(ROOT, path.join(project, "state", "terraform.heroku.tfstate"))}`);
    expect(fs.existsSync(path.join(old, "terraform.heroku.tfstate"))).toBe(false);
    expect(fs.readFileSync(backendFile("heroku"), "utf8")).toBe(stateText(12));
    expect(fs.readFileSync(`${backendFile("heroku")}.backup`, "utf8")).toBe(stateText(11));
    fs.rmSync(path.join(project, "cdktf.out"), { recursive: true });
    expect(fs.readFileSync(path.join(project, "state", "terraform.heroku.tfstate"), "utf8")).toBe(stateText(12));
  }, 60000);

  it("stops with one line and moves nothing when a state exists at both places", () => {
    const old = path.join(project, "cdktf.out", "stacks", "gcp", "terraform.gcp.tfstate");
    const kept = path.join(project, "state", "terraform.gcp.tfstate");
    const other = path.join(project, "cdktf.out", "stacks", "local", "terraform.local.tfstate");
    for (const [file, serial] of [[old, 3], [kept, 5], [other, 2]] as const) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, stateText(serial));
    }
    const run = synth();
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      `${path.relative(ROOT, old)} and ${path.relative(ROOT, kept)} both exist: keep the one with the higher "serial" at ${path.relative(ROOT, kept)}, move the other away, then synth again`,
    ]);
    expect(fs.readFileSync(old, "utf8")).toBe(stateText(3));
    expect(fs.readFileSync(kept, "utf8")).toBe(stateText(5));
    expect(fs.readFileSync(other, "utf8")).toBe(stateText(2));
  }, 60000);

  it("does nothing when no state is left in the build output", () => {
    expect(moveStateOutOfBuild(path.join(project, "cdktf.out"), STACKS)).toEqual([]);
    expect(fs.existsSync(path.join(project, "state"))).toBe(false);
  });
});
