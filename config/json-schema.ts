import { z } from "zod";
import { weekConfigSchema } from "./schema";

/** The JSON Schema of week.config.json that editors use, derived from the zod schema. */
export function weekConfigJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(weekConfigSchema, { io: "input" }), title: "week.config.json" };
}
