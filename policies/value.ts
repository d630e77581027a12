/**
 * Reading guarded fields of a Terraform document, deny by default: a value given as a Terraform
 * expression (`"${true}"`, `"${var.x}"`) is unknown until the rule proves it safe.
 */
import type { Json } from "./document";

/** True when a string holds a Terraform interpolation or template directive. */
export function isExpression(value: unknown): boolean {
  return typeof value === "string" && (value.includes("${") || value.includes("%{"));
}

export type Known<T> = { readonly known: true; readonly value: T } | { readonly known: false; readonly raw: unknown };

const known = <T>(value: T): Known<T> => ({ known: true, value });
const unknown = (raw: unknown): Known<never> => ({ known: false, raw });

/** A boolean field: true/false, "true"/"false" (Terraform converts them), or unknown. */
export function boolOf(value: unknown, fallback = false): Known<boolean> {
  if (value === undefined || value === null) return known(fallback);
  if (value === true || value === "true") return known(true);
  if (value === false || value === "false") return known(false);
  return unknown(value);
}

/** A number field: a number or a numeric string, or unknown. */
export function numberOf(value: unknown): Known<number | undefined> {
  if (value === undefined || value === null) return known(undefined);
  if (typeof value === "number") return known(value);
  if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return known(Number(value));
  return unknown(value);
}

/** A string field: a literal string, or unknown. */
export function stringOf(value: unknown): Known<string | undefined> {
  if (value === undefined || value === null) return known(undefined);
  if (typeof value === "string" && !isExpression(value)) return known(value);
  if (typeof value === "number" || typeof value === "boolean") return known(String(value));
  return unknown(value);
}

/** A list-or-single block (cdktf writes some blocks as objects, some as arrays), or unknown when the whole block is an expression. */
export function blocksOf(value: unknown): Known<Json[]> {
  if (value === undefined || value === null) return known([]);
  if (Array.isArray(value)) return known(value.filter((v) => v !== null) as Json[]);
  if (typeof value === "object") return known([value as Json]);
  return unknown(value);
}

/** A list of scalars, or unknown when the list itself is an expression. */
export function listOf(value: unknown): Known<unknown[]> {
  if (value === undefined || value === null) return known([]);
  if (Array.isArray(value)) return known(value);
  return unknown(value);
}

/** A short, single-line rendering of a value for a message. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
