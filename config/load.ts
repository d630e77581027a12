/**
 * Reads and validates the week's configuration before any resource is made.
 *
 * `week.config.json` at the project root is optional; `WEEK_CONFIG=path` names another
 * file, which must then exist. An empty file means "all defaults".
 */
import * as fs from "fs";
import * as path from "path";
import type { z } from "zod";
import { weekConfigSchema, type WeekConfig } from "./schema";

export const DEFAULT_CONFIG_FILE = "week.config.json";

/** Thrown for any invalid configuration; `problems` holds one line per bad field. */
export class WeekConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "WeekConfigError";
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const where = field === "" ? key : `${field}.${key}`;
      return `${where} is not a known setting (check its spelling against week.config.schema.json)`;
    });
  }
  return [`${field === "" ? "the configuration" : field} ${issue.message}, got ${show(issue.input)}`];
}

/** Validates an already-parsed value; `source` names it in error messages. */
export function parseWeekConfig(raw: unknown, source = "configuration"): WeekConfig {
  const result = weekConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    throw new WeekConfigError(source, result.error.issues.flatMap(describeIssue));
  }
  return result.data;
}

/**
 * Loads the configuration for this run.
 *
 * @param env the environment to read `WEEK_CONFIG` from. @default process.env
 * @param cwd where `week.config.json` is looked for. @default process.cwd()
 */
export function loadWeekConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): WeekConfig {
  const named = env.WEEK_CONFIG;
  const file = path.resolve(cwd, named ?? DEFAULT_CONFIG_FILE);
  const source = path.relative(cwd, file) || file;
  if (!fs.existsSync(file)) {
    if (named !== undefined) {
      throw new WeekConfigError(source, [`WEEK_CONFIG names a file that does not exist, got ${show(named)}`]);
    }
    return parseWeekConfig({}, source);
  }
  const text = fs.readFileSync(file, "utf8");
  if (text.trim() === "") return parseWeekConfig({}, source);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new WeekConfigError(source, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseWeekConfig(raw, source);
}
