/**
 * `npm run compose`: renders the local stack's services to `docker-compose.yml` at the project
 * root (and the sandbox's rendered Dockerfile where Compose builds it), after the policy pack's
 * Compose checks. Honours WEEK_CONFIG like synth. Exit 1 on an invalid configuration or a finding
 * (then nothing is written).
 *
 *   npm run compose               write the files
 *   npm run compose -- --check    write nothing; exit 1 if a file differs from its rendering
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { loadWeekConfigOrExit } from "../config/load";
import type { WeekConfig } from "../config/schema";
import { composeDocument, composeYaml, localServices, renderedDockerfiles, type RenderedFile } from "../constructs/local/compose";
import { PROJECT_ROOT } from "../constructs/paths";
import { checkCompose } from "../policies/compose";
import { policySummary, type PolicyReport } from "../policies/policy-pack";
import { LocalStack } from "../stacks/local-stack";

export const COMPOSE_FILE = path.join(PROJECT_ROOT, "docker-compose.yml");

/** Every file `npm run compose` writes, for a configuration. */
export function renderComposeFiles(config: WeekConfig): { files: RenderedFile[]; report: PolicyReport } {
  const stack = new LocalStack(new App(), "local", config);
  const services = localServices(stack);
  const document = composeDocument(services, { root: PROJECT_ROOT, network: config.network.name });
  return {
    files: [{ path: COMPOSE_FILE, content: composeYaml(document) }, ...renderedDockerfiles(services)],
    report: checkCompose(document),
  };
}

function main(): void {
  const config = loadWeekConfigOrExit();
  const check = process.argv.includes("--check");
  const { files, report } = renderComposeFiles(config);
  console.log(policySummary("compose", report));
  if (report.findings > 0) {
    for (const line of report.errors) console.error(line);
    console.error("docker-compose.yml not written");
    process.exit(1);
  }
  let drift = 0;
  for (const file of files) {
    const before = fs.existsSync(file.path) ? fs.readFileSync(file.path, "utf8") : undefined;
    const rel = path.relative(process.cwd(), file.path);
    if (before === file.content) {
      console.log(`${rel} unchanged`);
    } else if (check) {
      console.error(`${rel} differs from its rendering: run npm run compose`);
      drift += 1;
    } else {
      fs.writeFileSync(file.path, file.content);
      console.log(`wrote ${rel}`);
    }
  }
  if (drift > 0) process.exit(1);
}

if (require.main === module) main();
