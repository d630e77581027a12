/** Renders a stack's description, and its diff against a base, as the Markdown page a reviewer reads. */
import { summaryOf, type StackDescription } from "./describe";
import type { StackDiff } from "./diff";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const code = (s: string) => (s === "" ? "" : `\`${s.replace(/`/g, "'")}\``);

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ["(none)", ""];
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`), ""];
}

export interface PageContext {
  /** What configuration the page was made with (`week.config.json`, `defaults`). */
  readonly config: string;
  /** What the changes are measured against (`git main`, `config old.json`), if anything. */
  readonly base?: string;
}

function changesSection(diff: StackDiff): string[] {
  const lines: string[] = [];
  lines.push(`## What a deploy would destroy or expose`, "");
  if (diff.alarms.length === 0) {
    lines.push("Nothing: no address changed, no store touched, no protection lifted, no secret exposed, no port opened, no public access granted.", "");
  } else {
    for (const a of diff.alarms) lines.push(`- **${a.kind}**: ${a.message}`);
    lines.push("");
  }
  lines.push("## What changed", "");
  for (const line of diff.interface) lines.push(`- ${line}`);
  if (diff.interface.length > 0) lines.push("");
  if (diff.changes.length === 0) {
    lines.push("No resource changed.", "");
    return lines;
  }
  const count = (k: string) => diff.changes.filter((c) => c.kind === k).length;
  lines.push(`${count("added")} added, ${count("removed")} removed, ${count("moved")} at a new address, ${count("changed")} changed.`, "");
  lines.push(
    ...table(
      ["resource", "construct path", "what Terraform does"],
      diff.changes.map((c) => [
        code(c.address),
        c.from !== undefined ? `${code(c.from.path)} → ${code(c.path)}` : code(c.path),
        `${c.kind === "moved" ? "new address: " : ""}${c.action}${c.because !== undefined ? `, because ${c.because}` : ""}`,
      ]),
    ),
  );
  const withAttributes = diff.changes.filter((c) => c.attributes.length > 0);
  for (const c of withAttributes) {
    lines.push(`### \`${c.address}\``, "");
    lines.push(
      ...table(
        ["attribute", "before", "after", "effect"],
        c.attributes.map((a) => [
          code(a.path),
          a.secret ? "(secret)" : a.before === undefined ? "(absent)" : code(a.before.length > 120 ? `${a.before.slice(0, 117)}...` : a.before),
          a.secret ? "changed, value not shown" : a.after === undefined ? "(absent)" : code(a.after.length > 120 ? `${a.after.slice(0, 117)}...` : a.after),
          `${a.effect === "replaced" ? "forces replacement" : a.effect === "updated" ? "in place" : "update, or replacement: see plan"}${a.note !== undefined ? ` (${a.note})` : ""}`,
        ]),
      ),
    );
  }
  return lines;
}

function whatItIs(d: StackDescription): string[] {
  const lines: string[] = ["## What the stack is", ""];
  const providers = d.providers.map((p) => `${p.source} ${p.version}`).join(", ");
  lines.push(`Providers: ${providers || "none"}; Terraform ${d.requiredVersion ?? "(no required_version)"}.`, "");
  lines.push("### Resources", "");
  lines.push(...table(["resource", "construct path", "what it is"], d.resources.map((r) => [code(r.address), code(r.path), summaryOf(r, d.resources)])));
  lines.push("### Ports", "");
  lines.push(
    ...table(
      ["service", "host", "container port", "reachable from"],
      d.ports.map((p) => [code(p.service), `${p.hostIp}:${String(p.hostPort)}`, String(p.containerPort), p.loopbackOnly ? "this machine only" : "**every interface**"]),
    ),
  );
  lines.push("### Data: volumes and databases", "");
  lines.push(...table(["store", "kind", "used by", "protection"], d.stores.map((s) => [code(s.name), s.kind, s.usedBy.join(", "), s.protection])));
  lines.push("### Secrets (names and sources; values are never shown)", "");
  lines.push(...table(["secret", "where", "comes from"], d.secrets.map((s) => [code(s.name), s.where, s.source])));
  lines.push("### Outputs", "");
  lines.push(...table(["output", "meaning", "sensitive"], d.outputs.map((o) => [code(o.name), o.description, o.sensitive ? "yes" : "no"])));
  lines.push("### Policy", "");
  const errors = d.policyErrors.length;
  lines.push(`${d.suppressions.length} suppression${d.suppressions.length === 1 ? "" : "s"}, ${errors} finding${errors === 1 ? "" : "s"}.`, "");
  if (d.suppressions.length > 0) lines.push(...table(["rule", "construct path", "reason"], d.suppressions.map((s) => [code(s.ruleId), code(s.path), s.reason])));
  for (const e of d.policyErrors) lines.push(`- finding: ${e}`);
  return lines;
}

/** The page of one stack: the changes first (with a base), then what the stack is. */
export function renderPage(now: StackDescription, context: PageContext, diff?: StackDiff): string {
  const lines = [`# Review of stack \`${now.name}\``, ""];
  lines.push(`Configuration: ${context.config}. ${context.base !== undefined ? `Compared with: ${context.base}.` : "No base given: the stack as it is."}`, "");
  if (diff !== undefined) lines.push(...changesSection(diff));
  lines.push(...whatItIs(now));
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}
