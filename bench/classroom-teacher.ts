/**
 * Measures the teacher's commands on this machine (never pass/fail):
 *
 *   node -r ./scripts/ts-cache.js bench/classroom-teacher.ts progress [STUDENTS] [DAYS]
 *
 * progress: STUDENTS (default 25) local repositories with DAYS (default 5) days of history, made
 * with git (committer dates set), read through `npm run classroom -- progress` as a teacher
 * runs it: first run (clones into the cache), second run (fetches), and `progress snapshot`.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeClassRepos } from "../__tests__/support/classroom-repos";

const ROOT = path.join(__dirname, "..");

function classroom(cwd: string, args: string[]): { seconds: number; stdout: string; stderr: string; status: number | null } {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts", "ts-cache.js"), path.join(ROOT, "scripts", "classroom.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WEEK_CONFIG: undefined },
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout: run.stdout, stderr: run.stderr, status: run.status };
}

function measureProgress(students: number, days: number): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-bench-"));
  try {
    const made = Date.now();
    const repos = makeClassRepos(path.join(dir, "repos"), students, days, "2026-11-02");
    console.log(`made ${students} repositories with ${days} days of history in ${((Date.now() - made) / 1000).toFixed(1)} s`);
    fs.writeFileSync(path.join(dir, "roster.csv"), ["id,name,email,repository_url", ...repos.map((r) => `${r.id},${r.id},${r.id}@example.org,file://${r.repositoryUrl}`)].join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "week.config.json"), JSON.stringify({ classroom: { roster: "roster.csv", course: "bench" } }));
    const until = new Date(Date.parse("2026-11-02T00:00:00Z") + (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const args = ["progress", "--since", "2026-11-02", "--until", until, "--format", "csv"];
    for (const label of ["first run (clone)", "second run (fetch)"]) {
      const run = classroom(dir, args);
      const lines = run.stdout.trim().split("\n").slice(1);
      const pushed = lines.filter((l) => l.split(",")[3] === "pushed").length;
      console.log(`progress ${label}: ${run.seconds.toFixed(2)} s, exit ${run.status}, ${lines.length} rows, ${pushed} pushed`);
    }
    const snap = classroom(dir, ["progress", "snapshot"]);
    console.log(`progress snapshot: ${snap.seconds.toFixed(2)} s, exit ${snap.status}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [what, a, b] = process.argv.slice(2);
if (what === "progress") measureProgress(Number(a ?? 25), Number(b ?? 5));
else {
  console.error("usage: bench/classroom-teacher.ts progress [STUDENTS] [DAYS]");
  process.exitCode = 2;
}
