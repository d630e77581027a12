/** `npm run synth` end to end: the app as the command runs it, in a child process. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
/** The node arguments of `npm run synth` (`node -r ./scripts/ts-cache.js main.ts`), read from package.json. */
const SYNTH_ARGS: string[] = (() => {
  const [command, ...args] = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.synth as string).split(" ");
  if (command !== "node") throw new Error(`package.json scripts.synth must start with node, got ${JSON.stringify(command)}`);
  return args;
})();

function synth(env: Record<string, string>, preload: string[] = []) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "week-main-"));
  const result = spawnSync(process.execPath, [...SYNTH_ARGS.slice(0, -1), ...preload.flatMap((p) => ["-r", p]), ...SYNTH_ARGS.slice(-1)], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
  });
  return { ...result, outdir };
}

describe("npm run synth", () => {
  jest.setTimeout(60000);

  it("writes every stack and prints one policy summary line per stack", () => {
    const run = synth({});
    try {
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const stacks = fs.readdirSync(path.join(run.outdir, "stacks")).sort();
      expect(stacks).toContain("local");
      const summaries = run.stdout.trim().split("\n");
      expect(summaries).toHaveLength(stacks.length);
      for (const line of summaries) expect(line).toMatch(/^policy [a-z]+: \d+ rules checked, 0 findings, \d+ suppressions?$/);
    } finally {
      fs.rmSync(run.outdir, { recursive: true, force: true });
    }
  });

  it("stops before any resource is made when the configuration is invalid, naming the field and the value", () => {
    const file = path.join(os.tmpdir(), `week-bad-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ sandbox: { hostPort: 70000 } }));
    const run = synth({ WEEK_CONFIG: file });
    try {
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("sandbox.hostPort must be a whole number between 1 and 65535, got 70000");
      expect(fs.existsSync(path.join(run.outdir, "stacks"))).toBe(false);
    } finally {
      fs.rmSync(file);
      fs.rmSync(run.outdir, { recursive: true, force: true });
    }
  });

  it("fails with exit 1 naming the rule, the path, the problem and the fix when the final document has a finding", () => {
    const run = synth({}, [path.join(__dirname, "fixtures", "override-after-pack.js")]);
    try {
      expect(run.status).toBe(1);
      expect(run.stdout).toContain("policy local: ");
      expect(run.stdout).toMatch(/policy local: \d+ rules checked, 1 finding, 0 suppressions/);
      expect(run.stderr.trim().split("\n")).toEqual([
        '[WEEK-DOCKER-004] docker_container.late: privileged is "${true}", an expression the rule cannot prove false. Fix: drop it: give the container only named volumes, the default network and namespaces, and no added capabilities or devices',
      ]);
    } finally {
      fs.rmSync(run.outdir, { recursive: true, force: true });
    }
  });
});

describe("npm run synth with a model.data that is not a CSV file where it may be", () => {
  jest.setTimeout(120000);

  it.each<[string, (dir: string) => Record<string, unknown>, string]>([
    ["a named pipe", (dir) => (spawnSync("mkfifo", [path.join(dir, "pipe.csv")]), { data: path.join(dir, "pipe.csv"), dataRoots: [dir] }), "but it is a named pipe"],
    ["a folder", (dir) => ({ data: dir, dataRoots: [path.dirname(dir)] }), "but it is a folder"],
    ["the process environment", () => ({ data: "/proc/self/environ" }), "must be under the project folder"],
  ])("stops with exit 1 and one line naming model.data for %s, no stack trace, no output", (_what, model, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-main-data-"));
    const file = path.join(dir, "week.config.json");
    fs.writeFileSync(file, JSON.stringify({ model: model(dir) }));
    const run = synth({ WEEK_CONFIG: file });
    try {
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^configuration is invalid: model\.data /);
      expect(lines[0]).toContain(message);
      expect(fs.existsSync(path.join(run.outdir, "stacks"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(run.outdir, { recursive: true, force: true });
    }
  });
});
