/**
 * Each TP's checks across the class: every student at once up to `jobs`, each within
 * `studentTimeoutS`, never stopping at a failure; the class report as CSV, Markdown or HTML.
 */
import pLimit from "p-limit";
import { tp1 } from "./tp1";
import { tp2 } from "./tp2";
import { tp3 } from "./tp3";
import { tp4 } from "./tp4";
import { tp5 } from "./tp5";
import type { CheckResult, CheckTarget, TpCheck } from "./types";

export type { CheckResult, CheckTarget } from "./types";

/** The TPs and their checks (one home for the list). */
export const TPS: Record<string, { readonly title: string; readonly run: TpCheck }> = {
  TP1: { title: "the sandbox answers with its token and has python3, pip3, vim, git and the workspace", run: tp1 },
  TP2: { title: "the Streamlit app answers and classifies a text", run: tp2 },
  TP3: { title: "test_api.sh passes against the API", run: tp3 },
  TP4: { title: "the deployed API answers / and /predict (and its image is under 500 MB when named)", run: tp4 },
  TP5: { title: "the database has a table of at least five columns, and a dump restores", run: tp5 },
};

export interface RunChecksOptions {
  /** @default 8 */
  readonly jobs?: number;
  /** Time allowed for one student's checks. @default 120 */
  readonly studentTimeoutS?: number;
  /** Time allowed for one request. @default 20 */
  readonly requestTimeoutS?: number;
  /** The project root (test_api.sh). */
  readonly root: string;
  /** A PEM certificate to trust besides the system's (the class proxy's self-signed one). */
  readonly caFile?: string;
}

/** Every student's results, in the targets' order. */
export async function runChecks(tp: string, targets: readonly CheckTarget[], options: RunChecksOptions): Promise<CheckResult[]> {
  const entry = TPS[tp.toUpperCase()];
  if (entry === undefined) throw new Error(`the TP must be one of ${Object.keys(TPS).join(", ")}, got ${JSON.stringify(tp)}`);
  const limit = pLimit(options.jobs ?? 8);
  const studentTimeoutS = options.studentTimeoutS ?? 120;
  const perStudent = await Promise.all(
    targets.map((target) =>
      limit(async () => {
        const controller = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<CheckResult[]>((resolve) => {
          timer = setTimeout(() => {
            controller.abort();
            resolve([{ student: target.student, check: tp.toUpperCase(), status: "error", detail: `timed out after ${studentTimeoutS} s` }]);
          }, studentTimeoutS * 1000);
        });
        try {
          const work = entry.run(target, { requestTimeoutS: options.requestTimeoutS ?? 20, signal: controller.signal, root: options.root, caFile: options.caFile }).catch(
            (error: unknown): CheckResult[] => [{ student: target.student, check: tp.toUpperCase(), status: "error", detail: String((error as Error)?.message ?? error).split("\n")[0] }],
          );
          return await Promise.race([work, timedOut]);
        } finally {
          clearTimeout(timer);
        }
      }),
    ),
  );
  return perStudent.flat();
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV, header `student,check,status,detail`. */
export function reportCsv(results: readonly CheckResult[]): string {
  return `${["student,check,status,detail", ...results.map((r) => [r.student, r.check, r.status, r.detail].map(csvField).join(","))].join("\n")}\n`;
}

function counts(results: readonly CheckResult[]): string {
  const students = new Set(results.map((r) => r.student));
  const passing = [...students].filter((s) => results.filter((r) => r.student === s).every((r) => r.status === "pass")).length;
  const n = (status: string) => results.filter((r) => r.status === status).length;
  return `${passing}/${students.size} students pass every check; ${n("pass")} pass, ${n("fail")} fail, ${n("error")} error`;
}

/** Markdown: a title, the summary, a table. */
export function reportMarkdown(tp: string, results: readonly CheckResult[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
  const icon = { pass: "pass", fail: "**fail**", error: "_error_" };
  return [
    `# ${tp.toUpperCase()}: ${TPS[tp.toUpperCase()]?.title ?? ""}`,
    "",
    counts(results),
    "",
    "| student | check | status | detail |",
    "| --- | --- | --- | --- |",
    ...results.map((r) => `| ${cell(r.student)} | ${cell(r.check)} | ${icon[r.status]} | ${cell(r.detail)} |`),
    "",
  ].join("\n");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** One page: a row per student, a column per check, coloured by status, the detail under each. */
export function reportHtml(tp: string, results: readonly CheckResult[]): string {
  const students = [...new Set(results.map((r) => r.student))];
  const checks = [...new Set(results.map((r) => r.check))];
  const rows = students
    .map((s) => {
      const cells = checks
        .map((c) => {
          const r = results.find((x) => x.student === s && x.check === c);
          return r === undefined ? '<td class="skipped">not run (an earlier check failed)</td>' : `<td class="${r.status}"><b>${r.status}</b><br><small>${escapeHtml(r.detail)}</small></td>`;
        })
        .join("");
      return `<tr><th scope="row">${escapeHtml(s)}</th>${cells}</tr>`;
    })
    .join("\n");
  const title = `${tp.toUpperCase()}: ${TPS[tp.toUpperCase()]?.title ?? ""}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;font-size:.9rem;max-width:28rem}
th[scope=row]{text-align:left}
td.pass{background:#c8f0c8;color:#0b5d1e}
td.fail{background:#f7c6c5;color:#8a1c1c}
td.error{background:#fde7b0;color:#6b4b00}
td.skipped{color:#888;font-size:.8rem}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(counts(results))}. <span style="background:#c8f0c8">pass</span> <span style="background:#f7c6c5">fail: the student's work</span> <span style="background:#fde7b0">error: the check could not run</span></p>
<table>
<thead><tr><th>student</th>${checks.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/** For the terminal: one line per result. */
export function reportTable(tp: string, results: readonly CheckResult[]): string {
  const w = (k: "student" | "check") => Math.max(k.length, ...results.map((r) => r[k].length));
  const [ws, wc] = [w("student"), w("check")];
  return [
    `${"student".padEnd(ws)}  ${"check".padEnd(wc)}  status  detail`,
    ...results.map((r) => `${r.student.padEnd(ws)}  ${r.check.padEnd(wc)}  ${r.status.padEnd(6)}  ${r.detail}`),
    "",
    `${tp.toUpperCase()}: ${counts(results)}`,
    "",
  ].join("\n");
}
