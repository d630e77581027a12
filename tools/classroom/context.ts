/**
 * What every `npm run classroom` command starts from: the configuration and its roster, read
 * once, with one-line errors (a CliError) instead of stack traces.
 */
import * as path from "path";
import { loadWeekConfig, WeekConfigError } from "../../config/load";
import { readRoster, RosterError, type Roster } from "../../config/roster";
import type { WeekConfig } from "../../config/schema";

/** An error the CLI prints as is (one line per problem) before exiting 1. */
export class CliError extends Error {}

export interface Classroom {
  readonly config: WeekConfig;
  readonly roster: Roster;
  /** The project root: state/, cdktf.out/ and relative paths of the configuration are under it. */
  readonly root: string;
}

/** The project root (where package.json is). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Loads the configuration and its roster.
 * @param env where WEEK_CONFIG is read. @default process.env
 * @param cwd where week.config.json and the roster are looked for. @default process.cwd()
 */
export function loadClassroom(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Classroom {
  let config: WeekConfig;
  try {
    config = loadWeekConfig(env, cwd);
  } catch (error) {
    if (error instanceof WeekConfigError) throw new CliError(error.message);
    throw error;
  }
  if (config.classroom.roster === undefined) {
    throw new CliError("classroom.roster is not set: add {\"classroom\": {\"roster\": \"roster.csv\"}} to week.config.json (header id,name,email)");
  }
  try {
    return { config, roster: readRoster(config.classroom.roster, cwd), root: cwd };
  } catch (error) {
    if (error instanceof RosterError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * A command of `npm run classroom`: each file of tools/classroom/commands/ exports `command`,
 * a function that returns a commander Command; scripts/classroom.ts adds every one it finds.
 */
export type CommandFactory = () => import("commander").Command;
