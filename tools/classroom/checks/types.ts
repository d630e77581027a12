/** What a TP check reads and returns. */
import { maskUrl } from "../../../config/names";

export type CheckStatus = "pass" | "fail" | "error";

/** One line of the class report: `fail` is the student's work, `error` is the check's (unreachable, timeout, missing tool). */
export interface CheckResult {
  readonly student: string;
  readonly check: string;
  readonly status: CheckStatus;
  /** Why, in one line. */
  readonly detail: string;
}

/** Where one student's week runs: whatever a TP's checks need of it (absent: that check is an error saying what is missing). */
export interface CheckTarget {
  readonly student: string;
  /** Jupyter's base URL (TP1). */
  readonly sandboxUrl?: string;
  /** Jupyter's token (TP1). */
  readonly token?: string;
  /** Local container of the sandbox, read with docker exec (TP1). */
  readonly sandboxContainer?: string;
  /** Streamlit's base URL (TP2). */
  readonly streamlitUrl?: string;
  /** The API's base URL (TP3, TP4). */
  readonly apiUrl?: string;
  /** Image of the deployed API, whose size is checked when given (TP4). */
  readonly image?: string;
  /** postgresql:// URL of the student's database (TP5). */
  readonly databaseUrl?: string;
  /** Local container of the database, read with docker exec (TP5). */
  readonly databaseContainer?: string;
}

export interface CheckOptions {
  /** Seconds allowed per request. */
  readonly requestTimeoutS: number;
  /** Aborted when the student's time is up. */
  readonly signal: AbortSignal;
  /** The project root (for lambdas-src/api/test/test_api.sh). */
  readonly root: string;
  /** A PEM certificate to trust besides the system's (the class proxy's self-signed one). */
  readonly caFile?: string;
}

/** A TP's checks against one student; never throws for the student's fault (a result says it). */
export type TpCheck = (target: CheckTarget, options: CheckOptions) => Promise<CheckResult[]>;

/** One line from anything thrown, without a stack. */
export function oneLine(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "AbortError" || e?.name === "TimeoutError") return "timed out";
  const cause = e?.cause?.code ?? e?.cause?.message;
  const text = `${e?.message ?? String(error)}${cause ? ` (${cause})` : ""}`;
  return text.split("\n")[0].slice(0, 300);
}

/** A student's results as a check adds them: `add(check, status, detail)`, then `out`; details have URL credentials masked. */
export function resultsOf(student: string): { out: CheckResult[]; add: (check: string, status: CheckStatus, detail: string) => void } {
  const out: CheckResult[] = [];
  return { out, add: (check, status, detail) => void out.push({ student, check, status, detail: maskUrl(detail) }) };
}
