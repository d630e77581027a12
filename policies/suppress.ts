import type { IConstruct } from "constructs";
import { RULE_IDS, type RuleId } from "./rule-ids";

const SUPPRESSIONS = "week:policy-suppressions";

export interface Suppression {
  readonly ruleId: string;
  readonly reason: string;
}

/** Suppressions by the construct path they were made on; they waive findings at that path and below. */
export type SuppressionTable = ReadonlyMap<string, readonly Suppression[]>;

/**
 * Waives one rule for a construct and everything under it. The reason is required and
 * stays in the code next to the resource, where a reviewer reads it.
 *
 * The rules judge the synthesised document, where a resource is known by its construct path
 * (the `//` metadata cdktf writes); the suppression is kept in the construct's metadata and
 * collected into a table by path when the document is judged (see `suppressionTable`).
 */
export function suppress(scope: IConstruct, ruleId: RuleId, reason: string): void {
  if (!(Object.values(RULE_IDS) as string[]).includes(ruleId)) {
    throw new Error(`suppress: ruleId must be a rule id such as WEEK-DOCKER-001, got ${JSON.stringify(ruleId)}`);
  }
  if (reason.trim().length < 10) {
    throw new Error(`suppress: reason for ${ruleId} on ${scope.node.path} must say why in a sentence, got ${JSON.stringify(reason)}`);
  }
  scope.node.addMetadata(SUPPRESSIONS, { ruleId, reason: reason.trim() });
}

/** Every suppression made in `root` and below, by construct path. */
export function suppressionTable(root: IConstruct): SuppressionTable {
  const table = new Map<string, Suppression[]>();
  for (const node of root.node.findAll()) {
    const own = node.node.metadata.filter((m) => m.type === SUPPRESSIONS).map((m) => m.data as Suppression);
    if (own.length > 0) table.set(node.node.path, own);
  }
  return table;
}

/** The suppression of `ruleId` that covers `findingPath` (made there or on an ancestor), if any. */
export function suppressionFor(table: SuppressionTable, findingPath: string, ruleId: string): Suppression | undefined {
  const parts = findingPath.split("/");
  for (let n = parts.length; n > 0; n -= 1) {
    const found = table.get(parts.slice(0, n).join("/"))?.find((s) => s.ruleId === ruleId);
    if (found !== undefined) return found;
  }
  return undefined;
}
