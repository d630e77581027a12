import { App } from "cdktf";
import { loadWeekConfigOrExit } from "./config/load";
import { BuildContextError } from "./constructs/shared/context-filter";
import { readRoster, RosterError } from "./config/roster";
import type { WeekConfig } from "./config/schema";
import { readModelData } from "./constructs/shared/model-data";
import { PolicyFindingsError } from "./policies";
import { addWeekStacks } from "./stacks";
import { moveStateOutOfBuild, StateConflictError } from "./stacks/state";
import { ensureSelfSignedCertificate, ensureStudentSecrets, classStateDir, selfSignedFiles } from "./tools/classroom/secrets";

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
  // The data file is checked before any stack is made (the constructs read it again to stage it).
  const config = loadWeekConfigOrExit(process.env, process.cwd(), (c) => {
    if (c.model.data !== undefined) readModelData(c.model, process.cwd());
  });
  await prepareClassroom(config);
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
