import * as fs from "fs";
import * as path from "path";
import { TerraformAsset, TerraformResource, type TerraformStack } from "cdktf";
import { invokeAspects } from "cdktf/lib/synthesize/synthesizer";
import type { IStackSynthesizer, ISynthesisSession } from "cdktf/lib/synthesize/types";
import type { TerraformDocument } from "./document";
import type { Finding, PolicyRule } from "./rule";
import { suppressionFor, suppressionTable, type SuppressionTable } from "./suppress";

export interface PolicyReport {
  readonly rules: number;
  readonly findings: number;
  readonly suppressions: number;
  /** One line per error-level finding: rule id, path, message and fix. `findings` counts them: they stop synth. */
  readonly errors: string[];
  /** One line per warning-level finding, same form: reported, synth goes on. */
  readonly warnings: string[];
  /** Each finding a suppression waived: the rule, the finding's path and the suppression's reason. */
  readonly suppressed: ReadonlyArray<{ readonly ruleId: string; readonly path: string; readonly reason: string }>;
}

/** Thrown by synth when a stack's document has findings; its message lists them, one per line. */
export class PolicyFindingsError extends Error {
  constructor(
    readonly stackName: string,
    readonly report: PolicyReport,
  ) {
    super(`policy ${stackName}: ${report.findings} finding${report.findings === 1 ? "" : "s"}:\n${report.errors.join("\n")}`);
    this.name = "PolicyFindingsError";
  }
}

/** The error line of one finding: `[WEEK-DOCKER-001] local/api/image: ... Fix: ...`. */
export function findingLine(ruleId: string, finding: Finding): string {
  return `[${ruleId}] ${finding.path}: ${finding.message}. Fix: ${finding.fix}`;
}

/** The one-line summary of a judgement: `policy local: 18 rules checked, 0 findings, 1 suppression`. */
export function policySummary(name: string, { rules, findings, suppressions, warnings }: PolicyReport): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const warned = warnings.length === 0 ? "" : `, ${plural(warnings.length, "warning")}`;
  return `policy ${name}: ${plural(rules, "rule")} checked, ${plural(findings, "finding")}${warned}, ${plural(suppressions, "suppression")}`;
}

/**
 * Runs `rules` on one document of any kind. A finding covered by a suppression of its rule
 * (made at its path or above) is counted as suppressed; the others are errors.
 */
export function judgeDocument<D>(rules: readonly PolicyRule<D>[], doc: D, suppressions: SuppressionTable = new Map()): PolicyReport {
  const ids = rules.map((r) => r.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new Error(`PolicyPack: rule ids must be unique, got ${twice} twice`);
  const suppressed: Array<{ ruleId: string; path: string; reason: string }> = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const rule of rules) {
    for (const finding of rule.check(doc)) {
      const suppression = suppressionFor(suppressions, finding.path, rule.id);
      if (suppression !== undefined) suppressed.push({ ruleId: rule.id, path: finding.path, reason: suppression.reason });
      else (rule.level === "warning" ? warnings : errors).push(findingLine(rule.id, finding));
    }
  }
  return { rules: rules.length, findings: errors.length, suppressions: suppressed.length, errors, warnings, suppressed };
}

/**
 * The week's policy pack on one stack, judging the stack's final Terraform: the document that
 * synth writes to `cdktf.out/stacks/<stack>/cdk.tf.json`, after every aspect and override,
 * whenever they were added. Findings name the rule, the construct path, the problem and the fix.
 *
 * `applyTo` wraps the stack's synthesizer: `app.synth()` writes the document, then the pack
 * reads it back and judges it; a finding fails synth (or, under the cdktf CLI, which sets
 * CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS, becomes an error annotation the CLI reports).
 * Outside an app synth (`Testing.synth` in tests), `report` judges the stack in memory.
 */
export class PolicyPack {
  private judged?: PolicyReport;

  constructor(
    private readonly stack: TerraformStack,
    private readonly rules: readonly PolicyRule[],
  ) {}

  /** Applies a new pack of `rules` to `stack` and returns it, for its report. */
  static applyTo(stack: TerraformStack, rules: readonly PolicyRule[]): PolicyPack {
    const pack = new PolicyPack(stack, rules);
    const inner = stack.synthesizer;
    const wrapped: IStackSynthesizer = {
      synthesize(session: ISynthesisSession) {
        inner.synthesize(session);
        pack.afterSynth(session, inner);
      },
    };
    stack.synthesizer = wrapped;
    return pack;
  }

  private afterSynth(session: ISynthesisSession, inner: IStackSynthesizer): void {
    const stackManifest = session.manifest.forStack(this.stack);
    const file = path.join(session.outdir, stackManifest.synthesizedStackPath);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
      json = this.stack.toTerraform() as Record<string, unknown>; // HCL output: judge the same configuration as JSON
    }
    const doc: TerraformDocument = { kind: "terraform", stack: this.stack.node.id, json, dir: path.dirname(file), constructPaths: this.constructPaths() };
    const report = judgeDocument(this.rules, doc, suppressionTable(this.stack));
    this.judged = report;
    // Every waived finding stays visible in the manifest, with its reason (npm run review lists them).
    for (const { ruleId, path: constructPath, reason } of report.suppressed) {
      stackManifest.annotations.push({ constructPath, level: "@cdktf/info" as never, message: `[${ruleId}] suppressed: ${reason}` });
    }
    for (const line of report.warnings) {
      stackManifest.annotations.push({ constructPath: this.stack.node.path, level: "@cdktf/warn" as never, message: line });
    }
    if (report.findings === 0) return;
    const continueOnErrors = (inner as { continueOnErrorAnnotations?: boolean }).continueOnErrorAnnotations === true;
    if (continueOnErrors) {
      for (const line of report.errors) {
        stackManifest.annotations.push({ constructPath: this.stack.node.path, level: "@cdktf/error" as never, message: line });
      }
      return;
    }
    throw new PolicyFindingsError(this.stack.node.id, report);
  }

  /** The construct path of every resource the stack's constructs made, by address. */
  private constructPaths(): Map<string, string> {
    const paths = new Map<string, string>();
    for (const node of this.stack.node.findAll()) {
      if (node instanceof TerraformResource) paths.set(`${node.terraformResourceType}.${node.friendlyUniqueId}`, node.node.path);
    }
    return paths;
  }

  /** Judges the stack as it is now, in memory: aspects run, then its Terraform is resolved. */
  judge(): PolicyReport {
    invokeAspects(this.stack);
    const assets = new Map<string, string>();
    for (const node of this.stack.node.findAll()) {
      if (node instanceof TerraformAsset) {
        assets.set(node.path, path.resolve((node as unknown as { sourcePath: string }).sourcePath));
      }
    }
    const json = this.stack.toTerraform() as Record<string, unknown>;
    const doc: TerraformDocument = { kind: "terraform", stack: this.stack.node.id, json, assets, constructPaths: this.constructPaths() };
    this.judged = judgeDocument(this.rules, doc, suppressionTable(this.stack));
    return this.judged;
  }

  /** The report of the last synth, or of a judgement in memory made now. */
  get report(): PolicyReport {
    return this.judged ?? this.judge();
  }

  /** `policy local: 18 rules checked, 0 findings, 1 suppression` */
  summary(stackName: string = this.stack.node.id): string {
    return policySummary(stackName, this.report);
  }
}
