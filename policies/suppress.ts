import type { IConstruct } from "constructs";

const SUPPRESSIONS = "week:policy-suppressions";

export interface Suppression {
  readonly ruleId: string;
  readonly reason: string;
}

/**
 * Waives one rule for a construct and everything under it. The reason is required and
 * stays in the code next to the resource, where a reviewer reads it.
 */
export function suppress(scope: IConstruct, ruleId: string, reason: string): void {
  if (!/^WEEK-[A-Z]+-\d{3}$/.test(ruleId)) {
    throw new Error(`suppress: ruleId must be a rule id such as WEEK-DOCKER-001, got ${JSON.stringify(ruleId)}`);
  }
  if (reason.trim().length < 10) {
    throw new Error(`suppress: reason for ${ruleId} on ${scope.node.path} must say why in a sentence, got ${JSON.stringify(reason)}`);
  }
  scope.node.addMetadata(SUPPRESSIONS, { ruleId, reason: reason.trim() });
}

/** The suppression of `ruleId` that applies to `node` (its own or an ancestor's), if any. */
export function suppressionOf(node: IConstruct, ruleId: string): Suppression | undefined {
  for (const scope of node.node.scopes.slice().reverse()) {
    const entry = scope.node.metadata.find((m) => m.type === SUPPRESSIONS && (m.data as Suppression).ruleId === ruleId);
    if (entry !== undefined) return entry.data as Suppression;
  }
  return undefined;
}
