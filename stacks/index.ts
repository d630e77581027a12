import type { App, TerraformStack } from "cdktf";
import type { WeekConfig } from "../config/schema";
import { PolicyPack, WEEK_RULES } from "../policies";
import { GcpStack } from "./gcp-stack";
import { HerokuStack } from "./heroku-stack";
import { LocalStack } from "./local-stack";

export { LocalStack } from "./local-stack";
export { HerokuStack } from "./heroku-stack";
export { GcpStack } from "./gcp-stack";

export interface WeekStack {
  readonly stack: TerraformStack;
  /** The policy pack applied to the stack, for its summary after synth. */
  readonly policy: PolicyPack;
}

/** Adds one stack per target to `app`, each with the week's policy pack. */
export function addWeekStacks(app: App, config: WeekConfig): WeekStack[] {
  const stacks: TerraformStack[] = [
    new LocalStack(app, "local", config),
    new HerokuStack(app, "heroku", config),
    new GcpStack(app, "gcp", config),
  ];
  return stacks.map((stack) => ({ stack, policy: PolicyPack.applyTo(stack, WEEK_RULES) }));
}
