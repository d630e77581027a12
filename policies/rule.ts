import { TerraformOutput, TerraformResource } from "cdktf";
import { resolve } from "cdktf/lib/_tokens";
import type { IConstruct } from "constructs";

/** One thing a rule found wrong with one construct. */
export interface Finding {
  /** What is wrong, naming the value where it helps. */
  readonly message: string;
  /** How to put it right. */
  readonly fix: string;
}

/** A policy rule: a stable id, a one-line statement of what it demands, and a check. */
export interface PolicyRule {
  /** Stable id, such as WEEK-DOCKER-001; suppressions and reviews refer to it. */
  readonly id: string;
  /** One line: what the rule demands. */
  readonly statement: string;
  /** The findings for one construct of the tree (most rules look at one resource type). */
  check(node: IConstruct): Finding[];
}

export type Config = Record<string, unknown>;

/**
 * Resolving a construct's Terraform is the costly part of a check: it is done once per
 * construct, when the aspects run (the tree is complete by then), and shared by every rule.
 */
const resolved = new WeakMap<IConstruct, unknown>();
function resolvedTerraform<T>(node: TerraformResource | TerraformOutput): T {
  if (!resolved.has(node)) resolved.set(node, resolve(node, node.toTerraform()));
  return resolved.get(node) as T;
}

/** The resolved Terraform configuration of a resource of one of `types`, or undefined. */
export function resourceOf(node: IConstruct, ...types: string[]): { type: string; config: Config } | undefined {
  if (!(node instanceof TerraformResource) || !types.includes(node.terraformResourceType)) return undefined;
  const tf = resolvedTerraform<{ resource: Record<string, Record<string, Config>> }>(node);
  const byId = tf.resource[node.terraformResourceType];
  return { type: node.terraformResourceType, config: Object.values(byId)[0] };
}

/** The resolved configuration of an output: name, value, sensitivity. */
export function outputOf(node: IConstruct): { name: string; value: unknown; sensitive: boolean } | undefined {
  if (!(node instanceof TerraformOutput)) return undefined;
  const tf = resolvedTerraform<{ output: Record<string, { value: unknown; sensitive?: boolean }> }>(node);
  const [name, output] = Object.entries(tf.output)[0];
  return { name, value: output.value, sensitive: output.sensitive === true };
}

/** A list-or-single block as a list (cdktf writes some blocks as objects, some as arrays). */
export function blocks(value: unknown): Config[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as Config[];
}

/** Names that hold secrets: passwords, tokens, keys, credentials, connection URLs. */
export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL)/i;

/** A value written literally in the configuration, rather than a Terraform expression. */
export function isLiteral(value: unknown): boolean {
  return typeof value === "string" && value !== "" && !value.includes("${");
}

/** A literal URL with a password in it (`scheme://user:password@host`). */
export function hasLiteralCredentials(value: unknown): boolean {
  return typeof value === "string" && /:\/\/[^/:@\s]+:[^/@\s$]+@/.test(value);
}
