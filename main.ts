import { App, type TerraformStack } from "cdktf";
import { loadWeekConfig, WeekConfigError } from "./config/load";
import { PolicyPack, WEEK_RULES } from "./policies";
import { LocalStack } from "./stacks/local-stack";

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
  const stacks: TerraformStack[] = [new LocalStack(app, "local", config)];
  const packs = stacks.map((stack) => ({ stack, pack: PolicyPack.applyTo(stack, WEEK_RULES) }));
  try {
    app.synth();
  } finally {
    for (const { stack, pack } of packs) {
      console.log(pack.summary(stack.node.id));
      for (const error of pack.report.errors) console.error(error);
    }
  }
}

main();
