/**
 * What this project demands of its GitHub Actions workflows, beyond what actionlint and the
 * workflow schema check: actions pinned to a full commit SHA with the version in a comment,
 * no permission unless a job asks for it, `pull-requests: write` only where the review is
 * posted, no repository secret, and checkouts that do not keep the token.
 */
import { parse } from "yaml";

type Permissions = "read-all" | "write-all" | Record<string, string> | undefined;
interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Permissions;
  steps?: Step[];
}
interface Workflow {
  permissions?: Permissions;
  jobs?: Record<string, Job>;
}

/** Jobs allowed a write scope, and which. */
export const WRITE_ALLOWED: Readonly<Record<string, readonly string[]>> = { review: ["pull-requests"] };

/** The problems of one workflow file's text; `file` names it in each line. */
export function workflowProblems(file: string, text: string): string[] {
  const problems: string[] = [];
  let wf: Workflow;
  try {
    wf = parse(text) as Workflow;
  } catch (error) {
    return [`${file}: not valid YAML: ${(error as Error).message.split("\n")[0]}`];
  }
  text.split("\n").forEach((line, i) => {
    const m = /^\s*-?\s*uses:\s*(\S+)(.*)$/.exec(line);
    if (m === null || m[1].startsWith("./") || m[1].startsWith("docker://")) return;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(m[1])) problems.push(`${file}:${i + 1}: ${m[1]} must be pinned to a full commit SHA`);
    else if (!/#\s*v\d+(\.\d+)*\s*$/.test(m[2])) problems.push(`${file}:${i + 1}: ${m[1]} needs its version in a comment (# vX.Y.Z)`);
  });
  if (JSON.stringify(wf.permissions) !== "{}") problems.push(`${file}: permissions at the top must be {}, got ${JSON.stringify(wf.permissions ?? null)}`);
  for (const [name, job] of Object.entries(wf.jobs ?? {})) {
    const perms = job.permissions;
    if (perms === undefined || typeof perms === "string") {
      problems.push(`${file}: job ${name} must list its permissions, got ${JSON.stringify(perms ?? null)}`);
      continue;
    }
    for (const [scope, level] of Object.entries(perms)) {
      if (level === "write" && !(WRITE_ALLOWED[name] ?? []).includes(scope)) problems.push(`${file}: job ${name} must not have ${scope}: write`);
    }
    for (const step of job.steps ?? []) {
      if (step.uses?.startsWith("actions/checkout@") && step.with?.["persist-credentials"] !== false) {
        problems.push(`${file}: job ${name} checks out with persist-credentials other than false`);
      }
    }
  }
  if (/\$\{\{\s*secrets\./.test(text)) problems.push(`${file}: uses a repository secret; these jobs must need none`);
  return problems;
}
