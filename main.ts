import { App } from "cdktf";
import { loadWeekConfigOrExit } from "./config/load";
import { BuildContextError } from "./constructs/shared/context-filter";
import { PolicyFindingsError } from "./policies";
import { addWeekStacks } from "./stacks";
import { moveStateOutOfBuild, StateConflictError } from "./stacks/state";

function main(): void {
  const config = loadWeekConfigOrExit();
  const app = new App();
  let stacks: ReturnType<typeof addWeekStacks>;
  try {
    stacks = addWeekStacks(app, config);
    // State that an earlier version kept in cdktf.out goes to state/ before anything is written.
    for (const line of moveStateOutOfBuild(app.outdir, stacks.map(({ stack }) => stack.node.id))) console.log(line);
  } catch (error) {
    // A build context that would take a secret, a link or an archive, or a state file in the way: one line.
    if (!(error instanceof BuildContextError) && !(error instanceof StateConflictError)) throw error;
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
