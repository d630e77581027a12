import { App } from "cdktf";
import { loadWeekConfig, WeekConfigError } from "./config/load";
import { BuildContextError } from "./constructs/shared/context-filter";
import { readModelData } from "./constructs/shared/model-data";
import { PolicyFindingsError } from "./policies";
import { addWeekStacks } from "./stacks";

function loadConfigOrExit() {
  try {
    const config = loadWeekConfig();
    // The data file is checked before any stack is made (the constructs read it again to stage it).
    if (config.model.data !== undefined) readModelData(config.model, process.cwd());
    return config;
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
  let stacks: ReturnType<typeof addWeekStacks>;
  try {
    stacks = addWeekStacks(app, config);
  } catch (error) {
    // A build context that would take a secret, a link or an archive, or a model.data that is not
    // a CSV file where it may be: one line, naming the file or the field.
    if (!(error instanceof BuildContextError) && !(error instanceof WeekConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  let failed = false;
  try {
    app.synth();
  } catch (error) {
    // Policy findings are printed below, one line each: no stack trace for them.
    if (!(error instanceof PolicyFindingsError)) throw error;
  } finally {
    for (const { stack, policy } of stacks) {
      console.log(policy.summary(stack.node.id));
      for (const warning of policy.report.warnings) console.error(`warning: ${warning}`);
      for (const error of policy.report.errors) console.error(error);
      failed ||= policy.report.findings > 0;
    }
  }
  if (failed) process.exit(1);
}

main();
