/**
 * Students' git repositories for the classroom tests and the measurement: real repositories,
 * made with git, whose commits carry the committer dates a test asks for (GIT_COMMITTER_DATE).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const IDENTITY = { GIT_AUTHOR_NAME: "Student", GIT_AUTHOR_EMAIL: "student@example.org", GIT_COMMITTER_NAME: "Student", GIT_COMMITTER_EMAIL: "student@example.org" };

function git(dir: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync("git", ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, ...IDENTITY, ...env },
    encoding: "utf8",
  }).trim();
}

/** A new repository at `dir` with one empty commit per ISO instant in `commitDates` (in that order); returns the hashes. */
export function makeRepo(dir: string, commitDates: readonly string[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ["init", "--quiet"]);
  return commitDates.map((at, i) => addCommit(dir, at, `work ${i + 1}`));
}

/** One more empty commit on the current branch, committed (and authored) at `at`; returns its hash. */
export function addCommit(dir: string, at: string, message = "work"): string {
  git(dir, ["commit", "--quiet", "--allow-empty", "-m", message], { GIT_COMMITTER_DATE: at, GIT_AUTHOR_DATE: at });
  return git(dir, ["rev-parse", "HEAD"]);
}

/**
 * `students` repositories under `root` (student-01 ...), each with `days` days of history from
 * `firstDay` (UTC dates): two commits a day before each of the course's deadlines in Paris
 * winter time (10:05 and 15:05 UTC), every fifth student skipping the afternoon push.
 */
export function makeClassRepos(root: string, students: number, days: number, firstDay: string): { id: string; repositoryUrl: string }[] {
  const out: { id: string; repositoryUrl: string }[] = [];
  for (let s = 1; s <= students; s++) {
    const id = `student-${String(s).padStart(2, "0")}`;
    const dates: string[] = [];
    for (let d = 0; d < days; d++) {
      const day = new Date(Date.parse(`${firstDay}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 10);
      dates.push(`${day}T10:05:00Z`);
      if (s % 5 !== 0) dates.push(`${day}T15:05:00Z`);
    }
    makeRepo(path.join(root, id), dates);
    out.push({ id, repositoryUrl: path.join(root, id) });
  }
  return out;
}
