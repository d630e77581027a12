/**
 * `npm run classroom -- starter --out DIR`: the student edition carries no reference solution,
 * keeps the toolkit, and synthesises.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readManifest, templateOf, trackedFiles, writeStarter } from "../tools/classroom/starter";

const ROOT = path.join(__dirname, "..");
const manifest = readManifest(ROOT);
let out: string;

beforeAll(() => {
  out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "classroom-starter-")), "edition");
  writeStarter(ROOT, out);
});
afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const linesOf = (file: string): string[] => fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim());

/** Lines the workloads and the templates share (imports, argparse, logging), not any solution's own. */
const common = new Set([
  ...trackedFiles(ROOT)
    .filter((f) => f.startsWith("lambdas-src/") && !manifest.solutions.some((s) => s.path === f) && !manifest.drop.some((d) => f.startsWith(d)))
    .flatMap((f) => linesOf(path.join(ROOT, f))),
  ...manifest.solutions.flatMap((s) => linesOf(templateOf(ROOT, s.path))),
]);

/** The lines of a solution that neither its template nor the rest of the workloads hold, long enough to be its own. */
function ownLines(solution: string): string[] {
  return [...new Set(linesOf(path.join(ROOT, solution)))].filter((l) => l.length >= 30 && !common.has(l));
}

test("every solution of the manifest is a tracked file with a template that is not the solution", () => {
  const tracked = new Set(trackedFiles(ROOT));
  for (const s of manifest.solutions) {
    expect(tracked.has(s.path)).toBe(true);
    expect(fs.readFileSync(templateOf(ROOT, s.path), "utf8")).not.toBe(fs.readFileSync(path.join(ROOT, s.path), "utf8"));
    expect(fs.readFileSync(templateOf(ROOT, s.path), "utf8")).toContain(`TODO ${s.tp}`);
  }
});

/** Where a solution's own content is found in the edition at `dir`. */
function leaksIn(dir: string): string[] {
  const texts = filesUnder(dir)
    .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`) && !f.includes(`${path.sep}cdktf.out${path.sep}`))
    .map((f) => ({ file: path.relative(dir, f), text: fs.readFileSync(f, "utf8") }));
  const leaks: string[] = [];
  for (const s of manifest.solutions) {
    const whole = fs.readFileSync(path.join(ROOT, s.path), "utf8");
    const lines = ownLines(s.path);
    expect(lines.length).toBeGreaterThan(3); // the check has something to look for
    for (const { file, text } of texts) {
      if (text === whole) leaks.push(`${file} is ${s.path}`);
      const found = lines.filter((l) => text.includes(l));
      if (found.length > 0) leaks.push(`${file} holds ${found.length} lines of ${s.path}, e.g. ${JSON.stringify(found[0])}`);
    }
  }
  return leaks;
}

test("no reference solution's content reaches the edition, in its own file or any other", () => {
  expect(leaksIn(out)).toEqual([]);
});

test("the check finds a solution put back under another name, and the TP5 table inside a stack's jest snapshot", () => {
  const other = `${out}-leaky`;
  writeStarter(ROOT, other);
  try {
    fs.copyFileSync(path.join(ROOT, manifest.solutions[0].path), path.join(other, "lambdas-src", "api", "ml", "algo_reference.py"));
    fs.mkdirSync(path.join(other, "__tests__", "__snapshots__"));
    fs.copyFileSync(path.join(ROOT, "__tests__", "__snapshots__", "local-stack.test.ts.snap"), path.join(other, "__tests__", "__snapshots__", "local-stack.test.ts.snap"));
    const leaks = leaksIn(other);
    expect(leaks).toContain(`lambdas-src/api/ml/algo_reference.py is ${manifest.solutions[0].path}`);
    expect(leaks.some((l) => l.startsWith("__tests__/__snapshots__/local-stack.test.ts.snap holds") && l.includes("001-course.sql"))).toBe(true);
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});

test("the edition keeps the toolkit, its README walks through TP1-TP5, the toolkit's README is docs/toolkit.md", () => {
  for (const kept of ["main.ts", "docker-compose.yml", "lambdas-src/api/Dockerfile", "lambdas-src/api/test/test_api.sh", "lambdas-src/api/app/main.py", "lambdas-src/streamlit/classifier_client.py"]) {
    expect(fs.readFileSync(path.join(out, kept))).toEqual(fs.readFileSync(path.join(ROOT, kept)));
  }
  expect((fs.statSync(path.join(out, "lambdas-src/api/test/test_api.sh")).mode & 0o111) !== 0).toBe(true);
  const readme = fs.readFileSync(path.join(out, "README.md"), "utf8");
  for (const tp of ["TP1", "TP2", "TP3", "TP4", "TP5"]) expect(readme).toContain(`## ${tp} (Jour ${tp.slice(2)})`);
  expect(fs.readFileSync(path.join(out, "docs/toolkit.md"), "utf8")).toBe(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
  for (const dropped of ["starter", "docs/course.md", "lambdas-src/api/tests", "lambdas-src/database/tests", "__tests__/__snapshots__"]) expect(fs.existsSync(path.join(out, dropped))).toBe(false);
});

test("refuses to write over a folder that is not empty", () => {
  expect(() => writeStarter(ROOT, out)).toThrow(`--out must be a new or empty folder, got ${out} (not empty)`);
});

test("the edition's TypeScript synthesises every stack", () => {
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(out, "node_modules"));
  const run = spawnSync(process.execPath, ["-r", "./scripts/ts-cache.js", "main.ts"], { cwd: out, encoding: "utf8", env: { ...process.env, WEEK_CONFIG: undefined }, timeout: 120_000 });
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  expect(fs.readdirSync(path.join(out, "cdktf.out", "stacks")).sort()).toEqual(["gcp", "heroku", "local"]);
}, 120_000);
