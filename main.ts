import { App } from "cdktf";
import { loadWeekConfig, WeekConfigError } from "./config/load";
import { addWeekStacks } from "./stacks";

function loadConfigOrExit() {
  try {
    return loadWeekConfig();
  } catch (error) {
    if (error instanceof WeekConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

function main(): void {
  const config = loadConfigOrExit();
  const app = new App();
  const stacks = addWeekStacks(app, config);
  try {
    app.synth();
  } finally {
    for (const { stack, policy } of stacks) {
      console.log(policy.summary(stack.node.id));
      for (const error of policy.report.errors) console.error(error);
    }
  }
}

main();
