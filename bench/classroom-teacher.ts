/**
 * Measures the teacher's commands on this machine (never pass/fail):
 *
 *   node -r ./scripts/ts-cache.js bench/classroom-teacher.ts progress [STUDENTS] [DAYS] [--over https]
 *
 * progress: STUDENTS (default 25) local repositories with DAYS (default 5) days of history, made
 * with git (committer dates set), read through `npm run classroom -- progress` as a teacher
 * runs it: first run (clones into the cache), second run (fetches), and `progress snapshot`.
 * --over https: the same repositories, bare, served by git http-backend behind a tiny TLS server
 * on 127.0.0.1 (git's smart HTTP protocol, as a git host serves it; its self-signed certificate
 * trusted through the git configuration of a HOME of the run's own), the roster naming their
 * https:// URLs.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeClassRepos } from "../__tests__/support/classroom-repos";
import { bareCopies, serveGitOverHttp } from "../__tests__/support/git-http-server";

const ROOT = path.join(__dirname, "..");

/** The CLI in a child process, waited for without blocking: the git server of `--over` runs in this one. */
function classroom(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ seconds: number; stdout: string; stderr: string; status: number | null }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["-r", path.join(ROOT, "scripts", "ts-cache.js"), path.join(ROOT, "scripts", "classroom.ts"), ...args], {
    cwd,
    env: { ...process.env, WEEK_CONFIG: undefined, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on("close", (status) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout, stderr, status })),
  );
}

async function measureProgress(students: number, days: number, over: string | undefined): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-bench-"));
  let server: Awaited<ReturnType<typeof serveGitOverHttp>> | undefined;
  try {
    const made = Date.now();
    const repos = makeClassRepos(path.join(dir, "repos"), students, days, "2026-11-02");
    console.log(`made ${students} repositories with ${days} days of history in ${((Date.now() - made) / 1000).toFixed(1)} s`);
    let urls = repos.map((r) => `file://${r.repositoryUrl}`);
    const env: NodeJS.ProcessEnv = {};
    if (over === "https") {
      const names = bareCopies(repos, path.join(dir, "served"));
      server = await serveGitOverHttp(path.join(dir, "served"), { tls: true, workDir: dir });
      urls = names.map((n) => `${server?.url}/${n}`);
      const home = path.join(dir, "home");
      fs.mkdirSync(home);
      fs.writeFileSync(path.join(home, ".gitconfig"), `[http "${server.url}/"]\n\tsslCAInfo = ${server.caFile}\n`);
      env.HOME = home;
      console.log(`serving them over git's smart HTTP protocol at ${server.url} (TLS, git http-backend)`);
    } else if (over !== undefined) throw new Error(`--over must be https, got ${JSON.stringify(over)}`);
    fs.writeFileSync(path.join(dir, "roster.csv"), ["id,name,email,repository_url", ...repos.map((r, i) => `${r.id},${r.id},${r.id}@example.org,${urls[i]}`)].join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "week.config.json"), JSON.stringify({ classroom: { roster: "roster.csv", course: "bench" } }));
    const until = new Date(Date.parse("2026-11-02T00:00:00Z") + (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const args = ["progress", "--since", "2026-11-02", "--until", until, "--format", "csv"];
    for (const label of ["first run (clone)", "second run (fetch)"]) {
      const run = await classroom(dir, args, env);
      const lines = run.stdout.trim().split("\n").slice(1);
      const pushed = lines.filter((l) => l.split(",")[3] === "pushed").length;
      const errors = lines.filter((l) => l.split(",")[3] === "error").length;
      console.log(`progress ${label}: ${run.seconds.toFixed(2)} s, exit ${run.status}, ${lines.length} rows, ${pushed} pushed, ${errors} errors`);
    }
    const snap = await classroom(dir, ["progress", "snapshot"], env);
    console.log(`progress snapshot: ${snap.seconds.toFixed(2)} s, exit ${snap.status}`);
  } finally {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [what, ...rest] = process.argv.slice(2);
const overAt = rest.indexOf("--over");
const over = overAt < 0 ? undefined : rest[overAt + 1];
const [a, b] = overAt < 0 ? rest : rest.slice(0, overAt);
if (what === "progress") {
  measureProgress(Number(a ?? 25), Number(b ?? 5), over).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
} else {
  console.error("usage: bench/classroom-teacher.ts progress [STUDENTS] [DAYS] [--over https]");
  process.exitCode = 2;
}
