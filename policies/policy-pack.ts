import { Annotations, Aspects, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";
import type { PolicyRule } from "./rule";
import { suppressionOf } from "./suppress";

export interface PolicyReport {
  readonly rules: number;
  readonly findings: number;
  readonly suppressions: number;
  /** One line per finding: rule id, resource path, message and fix. */
  readonly errors: string[];
}

/**
 * Applies policy rules to every construct of a scope at synth. A finding is an error
 * annotation, which stops synth with the rule id, the resource path and the fix, unless
 * a suppression (see `suppress`) waives that rule there.
 */
export class PolicyPack implements IAspect {
  private readonly visited = new WeakSet<IConstruct>();
  private findings = 0;
  private suppressions = 0;
  private readonly errors: string[] = [];

  constructor(private readonly rules: readonly PolicyRule[]) {
    const ids = rules.map((r) => r.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) throw new Error(`PolicyPack: rule ids must be unique, got ${twice} twice`);
  }

  /** Applies a new pack of `rules` to `scope` and returns it, for its report. */
  static applyTo(scope: IConstruct, rules: readonly PolicyRule[]): PolicyPack {
    const pack = new PolicyPack(rules);
    Aspects.of(scope).add(pack);
    return pack;
  }

  visit(node: IConstruct): void {
    if (this.visited.has(node)) return;
    this.visited.add(node);
    for (const rule of this.rules) {
      for (const finding of rule.check(node)) {
        const suppression = suppressionOf(node, rule.id);
        if (suppression !== undefined) {
          this.suppressions += 1;
          Annotations.of(node).addInfo(`[${rule.id}] suppressed: ${suppression.reason}`);
          continue;
        }
        this.findings += 1;
        const line = `[${rule.id}] ${node.node.path}: ${finding.message}. Fix: ${finding.fix}`;
        this.errors.push(line);
        Annotations.of(node).addError(line);
      }
    }
  }

  get report(): PolicyReport {
    return { rules: this.rules.length, findings: this.findings, suppressions: this.suppressions, errors: [...this.errors] };
  }

  /** `policy local: 16 rules checked, 0 findings, 1 suppression` */
  summary(stackName: string): string {
    const { rules, findings, suppressions } = this.report;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
    return `policy ${stackName}: ${plural(rules, "rule")} checked, ${plural(findings, "finding")}, ${plural(suppressions, "suppression")}`;
  }
}
