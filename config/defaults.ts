/**
 * Every setting's default, as the schema writes it (`.default(...)` in config/schema.ts): the
 * one place a default lives. A construct's optional prop that mirrors a setting falls back to
 * the value here (`props.hostPort ?? WEEK_DEFAULTS.api.hostPort`), never to a literal of its own.
 */
import { weekConfigSchema, type WeekConfig } from "./schema";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export const WEEK_DEFAULTS: WeekConfig = deepFreeze(weekConfigSchema.parse({}));
