/**
 * The teacher's record of what each repository held when it was fetched: one JSON object per
 * line (`{"student","fetchedAt","head","branches"}` or `{"student","fetchedAt","error"}`),
 * appended by `progress snapshot` at each deadline. Unlike a commit's date, which the student
 * sets, the fetch time is the teacher's clock.
 */
import * as fs from "fs";
import * as path from "path";

export interface Snapshot {
  readonly student: string;
  /** ISO instant of the fetch. */
  readonly fetchedAt: string;
  /** Tip of the default branch. */
  readonly head?: string;
  /** Every branch tip. */
  readonly branches?: Record<string, string>;
  /** Why the repository could not be read (no head then). */
  readonly error?: string;
}

/** Every snapshot of the file (none when it does not exist); a bad line is an error naming the file and the line. */
export function readSnapshots(file: string): Snapshot[] {
  if (!fs.existsSync(file)) return [];
  const out: Snapshot[] = [];
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (line.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${index + 1}: not a JSON object`);
      }
      const v = value as Partial<Snapshot>;
      if (typeof v !== "object" || v === null || typeof v.student !== "string" || typeof v.fetchedAt !== "string" || Number.isNaN(Date.parse(v.fetchedAt))) {
        throw new Error(`${file}:${index + 1}: a snapshot needs student and fetchedAt, got ${line.slice(0, 80)}`);
      }
      out.push(v as Snapshot);
    });
  return out;
}

/** Appends `snapshots` to the file (created with mode 0600, its folder too). */
export function appendSnapshots(file: string, snapshots: readonly Snapshot[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.appendFileSync(file, snapshots.map((s) => `${JSON.stringify(s)}\n`).join(""), { mode: 0o600 });
}
