/**
 * checkov beside the policy pack: its failures read from its JSON report, and the README's table
 * of what each one is (fixed, matched by a WEEK rule, or why it does not apply). A failure the
 * table does not list fails `npm run checkov`.
 */

/** One failed checkov check on one target (a stack's name, or a Dockerfile's path). */
export interface CheckovFailure {
  readonly checkId: string;
  readonly target: string;
  readonly resource: string;
  readonly name: string;
}

/** One row of the README's table: a check id, the target it is about (`*` for any), the verdict and the reason. */
export interface TableRow {
  readonly checkId: string;
  readonly target: string;
  readonly verdict: string;
  readonly reason: string;
}

const TABLE_START = "<!-- checkov-failures:start -->";
const TABLE_END = "<!-- checkov-failures:end -->";
const LACKS_START = "<!-- checkov-lacks:start -->";
const LACKS_END = "<!-- checkov-lacks:end -->";

function between(text: string, start: string, end: string, what: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${what} between ${start} and ${end}`);
  return text.slice(from + start.length, to);
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim().replace(/^`(.*)`$/, "$1"));

/** The rows of the README's checkov table (`| check | target | verdict | reason |`). */
export function readTable(readme: string): TableRow[] {
  return between(readme, TABLE_START, TABLE_END, "checkov table")
    .split("\n")
    .filter((l) => /^\|\s*`?CKV/.test(l.trim()))
    .map((l) => {
      const [checkId, target, verdict, reason] = cells(l);
      return { checkId, target, verdict, reason };
    });
}

/** The WEEK rule ids the README names in its list of what checkov lacks (`| WEEK-... | ... |`). */
export function readLacks(readme: string): Array<{ ruleId: string; checkov: string }> {
  return between(readme, LACKS_START, LACKS_END, "list of what checkov lacks")
    .split("\n")
    .filter((l) => /^\|\s*`?WEEK-/.test(l.trim()))
    .map((l) => {
      const [ruleId, checkov] = cells(l);
      return { ruleId, checkov };
    });
}

/** The failures of a checkov JSON report (one framework's object, or a list of them), each with its target. */
export function failuresOf(report: unknown, targetOf: (filePath: string) => string): CheckovFailure[] {
  const reports = Array.isArray(report) ? report : [report];
  return reports.flatMap((r) => {
    const failed = ((r as { results?: { failed_checks?: unknown[] } }).results?.failed_checks ?? []) as Array<Record<string, unknown>>;
    return failed.map((c) => ({
      checkId: String(c.check_id),
      target: targetOf(String(c.file_abs_path ?? c.file_path ?? "")),
      resource: String(c.resource ?? ""),
      name: String(c.check_name ?? ""),
    }));
  });
}

/** Failures the table does not list (by check id and target, `*` matching any target). */
export function unlisted(failures: readonly CheckovFailure[], table: readonly TableRow[]): CheckovFailure[] {
  return failures.filter((f) => !table.some((row) => row.checkId === f.checkId && (row.target === "*" || row.target === f.target)));
}

/** Rows no failure matches any more: the table should lose them (reported, not fatal). */
export function stale(failures: readonly CheckovFailure[], table: readonly TableRow[]): TableRow[] {
  return table.filter((row) => !failures.some((f) => row.checkId === f.checkId && (row.target === "*" || row.target === f.target)));
}
