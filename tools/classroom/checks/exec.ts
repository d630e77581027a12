/** Commands for the checks: run here, or in a local container with `docker exec`, within the student's time. */
import { execFile } from "child_process";
import type { CheckOptions } from "./types";

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (in `container` when given); resolves with its exit code, rejects only when it cannot start or times out. */
export function run(
  argv: readonly string[],
  options: CheckOptions,
  extra: { container?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutS?: number } = {},
): Promise<Ran> {
  const full = extra.container === undefined ? [...argv] : ["docker", "exec", extra.container, ...argv];
  return new Promise((resolve, reject) => {
    execFile(
      full[0],
      full.slice(1),
      { env: extra.env ?? process.env, cwd: extra.cwd, signal: options.signal, timeout: (extra.timeoutS ?? options.requestTimeoutS) * 1000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e === null) return resolve({ code: 0, stdout, stderr });
        if (e.name === "AbortError" || e.killed) return reject(new Error(`${full[0] === "docker" ? "docker exec" : full[0]}: timed out`));
        if (typeof e.code === "string") return reject(new Error(`${full[0]}: cannot run it (${e.code})`));
        resolve({ code: typeof e.code === "number" ? e.code : 1, stdout, stderr });
      },
    );
  });
}

/** The last meaningful line of a command's output. */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return (lines.at(-1) ?? "").slice(0, 300);
}
