/**
 * `classroom progress`: for each student, each course day and each deadline, whether a push
 * landed in that deadline's window, from the commits' committer dates or, where the teacher
 * keeps them, from snapshots (the heads fetched at each deadline).
 *
 * A deadline's window runs from the previous deadline of the same day (the day's start for the
 * first) to the deadline, both in `classroom.timezone`: (previous, deadline].
 */
import pLimit from "p-limit";
import { listCommits, readHeads, syncRepository, type Commit } from "./git-mirror";
import { appendSnapshots, readSnapshots, type Snapshot } from "./snapshots";
import { datesBetween, parseTime, wallClock, zonedInstant } from "./zoned-time";

/** What progress needs of a roster line. */
export interface ProgressStudent {
  readonly id: string;
  readonly repositoryUrl?: string;
}

export interface ProgressSettings {
  /** IANA time zone of the deadlines (`classroom.timezone`). */
  readonly timezone: string;
  /** HH:MM, in the day's order (`classroom.deadlines`). */
  readonly deadlines: readonly string[];
}

export interface ProgressOptions {
  /** First and last course day, YYYY-MM-DD. */
  readonly since: string;
  readonly until: string;
  /** Folder of the bare clones. */
  readonly cacheDir: string;
  /** Folder that relative repository paths are read from (the roster's). */
  readonly baseDir: string;
  /** The teacher's snapshot file; statuses come from it where it covers a deadline. */
  readonly snapshotsFile?: string;
  /** @default 8 */
  readonly jobs?: number;
  /** A snapshot belongs to a deadline when fetched at most this long after it. @default 60 */
  readonly snapshotGraceMinutes?: number;
  /** @default - the clock */
  readonly now?: Date;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export type Status = "pushed" | "missing" | "pending";
export type Source = "snapshot" | "commit-date";

export interface Slot {
  readonly date: string;
  readonly deadline: string;
  readonly start: Date;
  readonly end: Date;
}

export interface Cell {
  readonly slot: Slot;
  readonly status: Status;
  readonly source: Source;
  /** Full hash of the commit that counts (the newest in the window, or the head a snapshot saw). */
  readonly commit?: string;
  /** Its committer date, or the snapshot's fetch time. */
  readonly at?: Date;
}

export interface StudentProgress {
  readonly student: string;
  readonly cells: readonly Cell[];
  /** Why the repository could not be read (then no cells). */
  readonly error?: string;
}

export interface ProgressReport {
  readonly timezone: string;
  readonly slots: readonly Slot[];
  readonly students: readonly StudentProgress[];
}

/** The deadline windows of every day from `since` to `until`. */
export function slotsOf(settings: ProgressSettings, since: string, until: string): Slot[] {
  const deadlines = settings.deadlines.map((d, i) => parseTime(d, `classroom.deadlines.${i}`));
  for (let i = 1; i < deadlines.length; i++) {
    if (deadlines[i] <= deadlines[i - 1]) throw new Error(`classroom.deadlines must be in increasing order, got ${deadlines.join(", ")}`);
  }
  const slots: Slot[] = [];
  for (const date of datesBetween(since, until)) {
    let start = zonedInstant(date, "00:00", settings.timezone);
    for (const deadline of deadlines) {
      const end = zonedInstant(date, deadline, settings.timezone);
      slots.push({ date, deadline, start, end });
      start = end;
    }
  }
  return slots;
}

function movedTip(a: Snapshot, b: Snapshot): string | undefined {
  // the tip that moved between a (earlier) and b, the default branch's first
  const tips = { ...(b.branches ?? {}) };
  if (b.head !== undefined && b.head !== a.head) return b.head;
  for (const [name, hash] of Object.entries(tips)) if (a.branches?.[name] !== hash) return hash;
  return undefined;
}

/** One student's cells, from their commits and their snapshots (pure). */
export function evaluate(slots: readonly Slot[], commits: readonly Commit[], snapshots: readonly Snapshot[], now: Date, graceMinutes = 60): Cell[] {
  const seen = snapshots.filter((s) => s.error === undefined).sort((a, b) => Date.parse(a.fetchedAt) - Date.parse(b.fetchedAt));
  const graceMs = graceMinutes * 60_000;
  return slots.map((slot): Cell => {
    const end = slot.end.getTime();
    const atDeadline = seen.find((s) => Date.parse(s.fetchedAt) >= end && Date.parse(s.fetchedAt) < end + graceMs);
    const baseline = [...seen].reverse().find((s) => Date.parse(s.fetchedAt) < Math.min(slot.start.getTime() + graceMs, end));
    if (atDeadline !== undefined && baseline !== undefined) {
      const moved = movedTip(baseline, atDeadline);
      return moved === undefined
        ? { slot, status: "missing", source: "snapshot", commit: atDeadline.head, at: new Date(atDeadline.fetchedAt) }
        : { slot, status: "pushed", source: "snapshot", commit: moved, at: new Date(atDeadline.fetchedAt) };
    }
    let newest: Commit | undefined;
    for (const c of commits) {
      const t = c.committedAt.getTime();
      if (t > slot.start.getTime() && t <= end && (newest === undefined || t > newest.committedAt.getTime())) newest = c;
    }
    if (newest !== undefined) return { slot, status: "pushed", source: "commit-date", commit: newest.hash, at: newest.committedAt };
    return { slot, status: end > now.getTime() ? "pending" : "missing", source: "commit-date" };
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fetches every repository (at most `jobs` at a time) and evaluates each student. */
export async function progress(students: readonly ProgressStudent[], settings: ProgressSettings, options: ProgressOptions): Promise<ProgressReport> {
  const slots = slotsOf(settings, options.since, options.until);
  const snapshots = options.snapshotsFile === undefined ? [] : readSnapshots(options.snapshotsFile);
  const now = options.now ?? new Date();
  const limit = pLimit(options.jobs ?? 8);
  const git = { env: options.env };
  const rows = await Promise.all(
    students.map((student) =>
      limit(async (): Promise<StudentProgress> => {
        if (!student.repositoryUrl) return { student: student.id, cells: [], error: "no repository_url in the roster" };
        try {
          const dir = await syncRepository(student.id, student.repositoryUrl, options.cacheDir, options.baseDir, git);
          const commits = await listCommits(dir, git);
          const mine = snapshots.filter((s) => s.student === student.id);
          return { student: student.id, cells: evaluate(slots, commits, mine, now, options.snapshotGraceMinutes) };
        } catch (error) {
          return { student: student.id, cells: [], error: describe(error) };
        }
      }),
    ),
  );
  return { timezone: settings.timezone, slots, students: rows };
}

/** `progress snapshot`: fetches every repository and appends its heads, with the fetch time, to the file. */
export async function snapshot(
  students: readonly ProgressStudent[],
  options: Pick<ProgressOptions, "cacheDir" | "baseDir" | "jobs" | "env"> & { readonly snapshotsFile: string; readonly now?: () => Date },
): Promise<Snapshot[]> {
  const limit = pLimit(options.jobs ?? 8);
  const clock = options.now ?? (() => new Date());
  const git = { env: options.env };
  const taken = await Promise.all(
    students
      .filter((s) => s.repositoryUrl)
      .map((student) =>
        limit(async (): Promise<Snapshot> => {
          try {
            const dir = await syncRepository(student.id, student.repositoryUrl as string, options.cacheDir, options.baseDir, git);
            const fetchedAt = clock().toISOString(); // the fetch is done: what it holds was pushed by now
            const heads = await readHeads(dir, git);
            return { student: student.id, fetchedAt, head: heads.head, branches: heads.branches };
          } catch (error) {
            return { student: student.id, fetchedAt: clock().toISOString(), error: describe(error) };
          }
        }),
      ),
  );
  appendSnapshots(options.snapshotsFile, taken);
  return taken;
}

// ------------------------------------------------------------------ renderings

export const TRUST_NOTE =
  "commit-date statuses trust the committer date, which the student sets (git commit --date, GIT_COMMITTER_DATE); " +
  "snapshot statuses come from the teacher's fetches at each deadline (progress snapshot)";

const short = (hash?: string): string => (hash === undefined ? "" : hash.slice(0, 7));

function localTime(at: Date | undefined, timezone: string): string {
  if (at === undefined) return "";
  const { date, time } = wallClock(at, timezone);
  return `${date} ${time.slice(0, 5)}`;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV, header `student,date,deadline,status,commit,source`; a student whose repository could not be read has one `error` line. */
export function toCsv(report: ProgressReport): string {
  const lines = ["student,date,deadline,status,commit,source"];
  for (const row of report.students) {
    if (row.error !== undefined) {
      lines.push([row.student, "", "", "error", "", ""].map(csvField).join(","));
      continue;
    }
    for (const c of row.cells) lines.push([row.student, c.slot.date, c.slot.deadline, c.status, short(c.commit), c.source].map(csvField).join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** A table for the terminal: one line per student and deadline, one line per unreadable repository. */
export function toTable(report: ProgressReport): string {
  const header = ["student", "date", "deadline", "status", "commit", "at", "source"];
  const rows: string[][] = [];
  for (const row of report.students) {
    if (row.error !== undefined) {
      rows.push([row.student, "", "", "error", "", "", row.error]);
      continue;
    }
    for (const c of row.cells) rows.push([row.student, c.slot.date, c.slot.deadline, c.status, short(c.commit), localTime(c.at, report.timezone), c.source]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r[3] !== "error").map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r[3] === "error" ? `${r[0].padEnd(widths[0])}  error: ${r[6]}` : r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  const counts = summary(report);
  return [line(header), ...rows.map(line), "", `${counts}; times in ${report.timezone}`, `note: ${TRUST_NOTE}`, ""].join("\n");
}

function summary(report: ProgressReport): string {
  const n = { pushed: 0, missing: 0, pending: 0 };
  for (const row of report.students) for (const c of row.cells) n[c.status]++;
  const errors = report.students.filter((r) => r.error !== undefined).length;
  return `${n.pushed} pushed, ${n.missing} missing, ${n.pending} pending, ${errors} unreadable`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** One page: a row per student, a column per deadline; green pushed, red missing, grey pending. */
export function toHtml(report: ProgressReport, title = "Daily pushes"): string {
  const days = [...new Set(report.slots.map((s) => s.date))];
  const perDay = report.slots.length / Math.max(days.length, 1);
  const head1 = days.map((d) => `<th colspan="${perDay}">${escapeHtml(d)}</th>`).join("");
  const head2 = report.slots.map((s) => `<th>${escapeHtml(s.deadline)}</th>`).join("");
  const body = report.students
    .map((row) => {
      const name = `<th scope="row">${escapeHtml(row.student)}</th>`;
      if (row.error !== undefined) return `<tr>${name}<td class="error" colspan="${report.slots.length}">cannot read the repository: ${escapeHtml(row.error)}</td></tr>`;
      const cells = row.cells
        .map((c) => {
          const mark = c.status === "pushed" ? "&#10003;" : c.status === "missing" ? "&#10007;" : "&hellip;";
          const tip = `${c.status} (${c.source})${c.commit ? ` ${short(c.commit)}` : ""}${c.at ? ` at ${localTime(c.at, report.timezone)}` : ""}`;
          const src = c.source === "snapshot" ? '<span class="src" title="from the teacher\'s snapshot">S</span>' : "";
          return `<td class="${c.status}" title="${escapeHtml(tip)}">${mark} <code>${escapeHtml(short(c.commit))}</code>${src}</td>`;
        })
        .join("");
      return `<tr>${name}${cells}</tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:center;font-size:.9rem}
th[scope=row]{text-align:left}
td.pushed{background:#c8f0c8;color:#0b5d1e}
td.missing{background:#f7c6c5;color:#8a1c1c;font-weight:bold}
td.pending{background:#eee;color:#666}
td.error{background:#fde7b0;color:#6b4b00;text-align:left}
.src{font-size:.7rem;vertical-align:super;margin-left:.2rem}
code{font-size:.8rem}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.5rem}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="legend"><span class="pushed" style="background:#c8f0c8">&#10003; pushed</span><span style="background:#f7c6c5">&#10007; missing</span><span style="background:#eee">&hellip; pending</span><span style="background:#fde7b0">repository unreadable</span> S: from a snapshot</p>
<table>
<thead><tr><th rowspan="2">student</th>${head1}</tr><tr>${head2}</tr></thead>
<tbody>
${body}
</tbody></table>
<p>${escapeHtml(summary(report))}; times in ${escapeHtml(report.timezone)}.</p>
<p><small>Note: ${escapeHtml(TRUST_NOTE)}.</small></p>
</body></html>
`;
}
