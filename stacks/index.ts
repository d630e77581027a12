import type { App, TerraformStack } from "cdktf";
import type { WeekConfig } from "../config/schema";
import { PolicyPack, WEEK_RULES } from "../policies";
import { LocalStack } from "./local-stack";

export { LocalStack } from "./local-stack";

export interface WeekStack {
  readonly stack: TerraformStack;
  /** The policy pack applied to the stack, for its summary after synth. */
  readonly policy: PolicyPack;
}

/** Adds one stack per target to `app`, each with the week's policy pack. */
export function addWeekStacks(app: App, config: WeekConfig): WeekStack[] {
  const stacks: TerraformStack[] = [new LocalStack(app, "local", config)];
  return stacks.map((stack) => ({ stack, policy: PolicyPack.applyTo(stack, WEEK_RULES) }));
}
