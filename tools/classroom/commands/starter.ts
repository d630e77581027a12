/** `npm run classroom -- starter --out DIR`: writes the student edition (no reference solutions). */
import * as path from "path";
import { Command } from "commander";
import { CliError, PROJECT_ROOT } from "../context";
import { writeStarter } from "../starter";

export function command(): Command {
  return new Command("starter")
    .description("write the student edition: the same toolkit, the reference solutions replaced by the course's instructions and TODOs")
    .requiredOption("--out <dir>", "a new (or empty) folder")
    .action((opts: { out: string }) => {
      let summary;
      try {
        summary = writeStarter(PROJECT_ROOT, path.resolve(opts.out));
      } catch (error) {
        throw new CliError(`classroom starter: ${(error as Error).message}`);
      }
      for (const file of summary.replaced) console.log(`TODO  ${file}`);
      console.log(`classroom starter: wrote ${opts.out}: ${summary.copied} files of the toolkit, ${summary.replaced.length} solutions replaced by their TODOs, ${summary.dropped} teacher's files left out`);
      console.log(`next: cd ${opts.out} && git init && git add -A && git commit -m "Starter" (then push it where the students fork it)`);
    });
}
