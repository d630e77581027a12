/**
 * `npm run classroom -- progress [--since DATE] [--until DATE] [--format table|csv|html] [--out FILE]`
 * and `npm run classroom -- progress snapshot`: the course's two pushes a day, per student.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, Option } from "commander";
import { CliError, loadClassroom, type Classroom } from "../context";
import { classStateDir } from "../secrets";
import { progress, snapshot, toCsv, toHtml, toTable, TRUST_NOTE } from "../progress";
import { today } from "../zoned-time";

/** Where the bare clones and the teacher's snapshot file live by default. */
export function progressPaths(c: Classroom): { cacheDir: string; snapshotsFile: string } {
  return {
    cacheDir: path.join(c.root, ".cache", "classroom", c.config.classroom.course, "repos"),
    snapshotsFile: path.join(c.root, classStateDir(c.config.classroom.course), "progress-snapshots.jsonl"),
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CliError(`--jobs must be a whole number between 1 and 64, got ${JSON.stringify(value)}`);
  return n;
}

function write(text: string, out: string | undefined): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, text);
  console.error(`classroom progress: wrote ${out}`);
}

export function command(): Command {
  const cmd = new Command("progress")
    .description("the daily pushes: per student, course day and deadline, pushed or missing (from commit dates, or the teacher's snapshots where they exist)")
    .option("--since <date>", "first course day, YYYY-MM-DD (default: today in classroom.timezone)")
    .option("--until <date>", "last course day, YYYY-MM-DD (default: today)")
    .addOption(new Option("--format <format>", "output").choices(["table", "csv", "html"]).default("table"))
    .option("--out <file>", "write the output to this file instead of the terminal")
    .option("--snapshots <file>", "the teacher's snapshot file (default: state/classroom/<course>/progress-snapshots.jsonl)")
    .option("--jobs <n>", "repositories fetched at once", positive, 8)
    .action(async (opts: { since?: string; until?: string; format: string; out?: string; snapshots?: string; jobs: number }) => {
      const c = loadClassroom();
      const { timezone, deadlines } = c.config.classroom;
      const paths = progressPaths(c);
      const until = opts.until ?? today(timezone);
      let report;
      try {
        report = await progress(c.roster.students, { timezone, deadlines }, {
          since: opts.since ?? (opts.until === undefined ? until : opts.until),
          until,
          cacheDir: paths.cacheDir,
          baseDir: path.dirname(path.resolve(c.root, c.roster.file)),
          snapshotsFile: opts.snapshots ?? paths.snapshotsFile,
          jobs: opts.jobs,
        });
      } catch (error) {
        throw new CliError(`classroom progress: ${(error as Error).message}`);
      }
      const text = opts.format === "csv" ? toCsv(report) : opts.format === "html" ? toHtml(report, `Daily pushes: ${c.config.classroom.course}`) : toTable(report);
      write(text, opts.out);
      if (opts.format === "csv") {
        for (const row of report.students) if (row.error !== undefined) console.error(`${row.student}: ${row.error}`);
        console.error(`note: ${TRUST_NOTE}`);
      }
    });
  cmd.addCommand(
    new Command("snapshot")
      .description("fetch every repository now and record its heads with the time of the fetch (run it at each deadline, by cron or by hand)")
      .option("--snapshots <file>", "the teacher's snapshot file (default: state/classroom/<course>/progress-snapshots.jsonl)")
      .option("--jobs <n>", "repositories fetched at once", positive, 8)
      .action(async (opts: { snapshots?: string; jobs: number }) => {
        const c = loadClassroom();
        const paths = progressPaths(c);
        const file = opts.snapshots ?? paths.snapshotsFile;
        const taken = await snapshot(c.roster.students, {
          cacheDir: paths.cacheDir,
          baseDir: path.dirname(path.resolve(c.root, c.roster.file)),
          snapshotsFile: file,
          jobs: opts.jobs,
        });
        for (const s of taken) console.log(s.error === undefined ? `${s.student}\t${(s.head ?? "(empty)").slice(0, 7)}\t${s.fetchedAt}` : `${s.student}\terror: ${s.error}`);
        console.error(`classroom progress snapshot: ${taken.length} repositories recorded in ${file}`);
      }),
  );
  return cmd;
}
