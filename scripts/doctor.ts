/**
 * `npm run doctor`: is this machine ready to deploy? One line per check, one fix per failure;
 * exits 1 when a blocking check fails.
 *
 *   npm run doctor                  the local stack (Docker)
 *   npm run doctor -- heroku gcp    the cloud stacks as well or instead
 */
import * as path from "path";
import { Argument, Command } from "commander";
import { formatResult, runChecks, TARGETS, type Target } from "../tools/doctor/checks";

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run doctor --")
    .description("Checks this machine's prerequisites for the asked stacks: one line per check, one fix per failure")
    .addArgument(new Argument("[stacks...]", "stacks to check for").choices(TARGETS).default(["local"], "local"))
    .showHelpAfterError()
    .exitOverride();
  program.parse(argv, { from: "user" });
  const targets = [...new Set(program.processedArgs[0] as Target[])];
  const results = await runChecks({ env: process.env, root: path.resolve(__dirname, ".."), targets });
  for (const r of results) console.log(formatResult(r));
  const blocking = results.filter((r) => r.blocking);
  const warnings = results.filter((r) => r.status === "warn");
  console.log(
    blocking.length > 0
      ? `doctor (${targets.join(", ")}): ${blocking.length} blocking problem${blocking.length === 1 ? "" : "s"}, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}`
      : `doctor (${targets.join(", ")}): ready${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""}`,
  );
  return blocking.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: { code?: string; exitCode?: number; message?: string }) => {
    if (typeof error.code === "string" && error.code.startsWith("commander.")) process.exitCode = error.exitCode ?? 1;
    else {
      console.error(`doctor: ${error.message ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
