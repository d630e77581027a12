/**
 * `npm run classroom -- <command>`: the teacher's commands for the class of the roster
 * (`classroom.roster` in week.config.json). Each command is a module of
 * tools/classroom/commands/ exporting `command()`; a new file there is a new command, with no
 * edit here.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { CliError, type CommandFactory } from "../tools/classroom/context";

const COMMANDS = path.join(__dirname, "..", "tools", "classroom", "commands");

export function classroomProgram(): Command {
  const program = new Command()
    .name("npm run classroom --")
    .description("The teacher's commands for the class of classroom.roster")
    .showHelpAfterError()
    .exitOverride();
  const files = fs
    .readdirSync(COMMANDS)
    .filter((f) => /^[a-z][a-z0-9-]*\.ts$/.test(f))
    .sort();
  for (const file of files) {
    const factory = (require(path.join(COMMANDS, file)) as { command?: CommandFactory }).command;
    if (typeof factory !== "function") throw new Error(`tools/classroom/commands/${file} must export command()`);
    program.addCommand(factory().exitOverride());
  }
  return program;
}

async function main(argv: string[]): Promise<number> {
  await classroomProgram().parseAsync(argv, { from: "user" });
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: { code?: string; exitCode?: number; message?: string }) => {
      if (error instanceof CliError) {
        console.error(error.message);
        process.exitCode = 1;
      } else if (typeof error.code === "string" && error.code.startsWith("commander.")) process.exitCode = error.exitCode ?? 1;
      else {
        console.error(`classroom: ${error.message ?? String(error)}`);
        process.exitCode = 1;
      }
    },
  );
}
