import type { App, TerraformStack } from "cdktf";
import type { WeekConfig } from "../config/schema";
import { PolicyPack, WEEK_RULES } from "../policies";
import { readRoster, type Roster } from "../config/roster";
import { departedStudents } from "../tools/classroom/secrets";
import { ClassroomStack } from "./classroom-stack";
import { GcpStack } from "./gcp-stack";
import { HerokuStack } from "./heroku-stack";
import { LocalStack } from "./local-stack";

export { LocalStack } from "./local-stack";
export { HerokuStack } from "./heroku-stack";
export { GcpStack } from "./gcp-stack";
export { ClassroomStack } from "./classroom-stack";

export interface WeekStack {
  readonly stack: TerraformStack;
  /** The policy pack applied to the stack, for its summary after synth. */
  readonly policy: PolicyPack;
}

export interface ClassroomInput {
  /** @default - read from classroom.roster (relative to the working directory) */
  readonly roster?: Roster;
  /** Students no longer in the roster whose volumes are kept. @default - those with a folder in state/classroom/<course>/ */
  readonly departed?: readonly string[];
}

/**
 * Adds one stack per target to `app`, each with the week's policy pack; the classroom stack
 * when classroom.roster is set (a bad roster throws a RosterError).
 */
export function addWeekStacks(app: App, config: WeekConfig, classroom: ClassroomInput = {}): WeekStack[] {
  const stacks: TerraformStack[] = [
    new LocalStack(app, "local", config),
    new HerokuStack(app, "heroku", config),
    new GcpStack(app, "gcp", config),
  ];
  if (config.classroom.roster !== undefined || classroom.roster !== undefined) {
    const roster = classroom.roster ?? readRoster(config.classroom.roster as string);
    const departed = classroom.departed ?? departedStudents(process.cwd(), config.classroom.course, roster);
    stacks.push(new ClassroomStack(app, "classroom", { config, roster, departed }));
  }
  return stacks.map((stack) => ({ stack, policy: PolicyPack.applyTo(stack, WEEK_RULES) }));
}
