/**
 * `npm run classroom -- <command>`: one-line errors, exit codes, commands found in
 * tools/classroom/commands/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-classroom-cli-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function classroom(args: string[], files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const run = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts", "ts-cache.js"), path.join(ROOT, "scripts", "classroom.ts"), ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, WEEK_CONFIG: undefined },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const CONFIG = JSON.stringify({ classroom: { roster: "roster.csv", course: "m2" } });

test("roster lists the students of a valid roster", () => {
  const run = classroom(["roster"], { "week.config.json": CONFIG, "roster.csv": "id,name,email\nada,Ada,ada@example.com\nalan,Alan,alan@example.com\n" });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("roster.csv: 2 students in course m2");
});

test("a bad roster exits 1 with one line per problem and no stack trace", () => {
  const run = classroom(["roster"], { "week.config.json": CONFIG, "roster.csv": "id,name,email\nAda,Ada,ada@example.com\nalan,Alan,nope\n" });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr.trim().split("\n")).toEqual([
    "roster.csv is invalid:",
    '  - roster.csv line 2 (id "Ada"): id must be 1-30 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash, got "Ada" (try "ada")',
    '  - roster.csv line 3 (id "alan"): email must be an e-mail address such as student@example.com, got "nope"',
  ]);
});

test("without classroom.roster the command says how to set it", () => {
  const run = classroom(["roster"], { "week.config.json": "{}" });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^classroom\.roster is not set: add/);
});
