import { App } from "cdktf";
import { loadWeekConfig, WeekConfigError } from "./config/load";
import { LocalStack } from "./stacks/local-stack";

function main(): void {
  let config;
  try {
    config = loadWeekConfig();
  } catch (error) {
    if (error instanceof WeekConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = new App();
  new LocalStack(app, "local", config);
  app.synth();
}

main();
