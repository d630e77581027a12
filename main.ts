import { App } from "cdktf";
import { loadWeekConfig, WeekConfigError } from "./config/load";
import { readRoster, RosterError } from "./config/roster";
import type { WeekConfig } from "./config/schema";
import { PolicyFindingsError } from "./policies";
import { addWeekStacks } from "./stacks";
import { ensureSelfSignedCertificate, ensureStudentSecrets, classStateDir, selfSignedFiles } from "./tools/classroom/secrets";

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

/**
 * The class's secrets, written before synth for students who have none (never rewritten), and
 * the proxy's self-signed certificate when the configuration gives none: the stack reads them
 * at plan time. Says what it wrote, never a value.
 */
async function prepareClassroom(config: WeekConfig): Promise<void> {
  const klass = config.classroom;
  if (klass.roster === undefined) return;
  let roster;
  try {
    roster = readRoster(klass.roster);
  } catch (error) {
    if (error instanceof RosterError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const created = ensureStudentSecrets(process.cwd(), klass.course, roster, config.database);
  if (created.length > 0) console.log(`classroom: new secrets for ${created.join(", ")} in ${classStateDir(klass.course)}/ (mode 0600; npm run classroom -- handout --out DIR)`);
  if (klass.proxy.tlsCertificate === undefined && (await ensureSelfSignedCertificate(process.cwd(), klass.course, klass.proxy.serverName))) {
    console.log(
      `classroom: generated a self-signed certificate for ${klass.proxy.serverName} in ${selfSignedFiles(klass.course).certificate}: browsers will warn until it is trusted; give classroom.proxy.tlsCertificate and tlsKey for a real one`,
    );
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  await prepareClassroom(config);
  const app = new App();
  const stacks = addWeekStacks(app, config);
  let failed = false;
  try {
    app.synth();
  } catch (error) {
    // Policy findings are printed below, one line each: no stack trace for them.
    if (!(error instanceof PolicyFindingsError)) throw error;
  } finally {
    for (const { stack, policy } of stacks) {
      console.log(policy.summary(stack.node.id));
      for (const error of policy.report.errors) console.error(error);
      failed ||= policy.report.findings > 0;
    }
  }
  if (failed) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
