/**
 * `npm run classroom -- handout --out DIR`: one sheet per student (<id>.md, mode 0600) with their
 * URL, token, database password and first steps, and index.md for the teacher. Secrets a
 * student does not have yet are generated as synth would; run twice, the sheets are the same.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { loadClassroom } from "../context";
import { studentSheet, teacherIndex } from "../handout";
import { classStateDir, ensureStudentSecrets, readStudentSecrets } from "../secrets";

/** Writes TEXT to FILE with mode 0600, whatever FILE's mode was. */
function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export function command(): Command {
  return new Command("handout")
    .description("write each student's sheet (<id>.md, mode 0600: URL, token, database password, first steps) and index.md into DIR")
    .requiredOption("--out <dir>", "folder to write the sheets into (created, mode 0700)")
    .action((options: { out: string }) => {
      const { config, roster, root } = loadClassroom();
      const klass = config.classroom;
      const created = ensureStudentSecrets(root, klass.course, roster, config.database);
      if (created.length > 0) console.log(`new secrets for ${created.join(", ")} in ${classStateDir(klass.course)}/ (deploy the classroom stack for them to take effect)`);
      fs.mkdirSync(options.out, { recursive: true, mode: 0o700 });
      for (const student of roster.students) {
        const secrets = readStudentSecrets(root, klass.course, student.id);
        if (secrets === undefined) throw new Error(`secrets of ${student.id} missing after they were written`);
        writePrivate(path.join(options.out, `${student.id}.md`), studentSheet(config, student, secrets));
      }
      writePrivate(path.join(options.out, "index.md"), teacherIndex(config, roster.students));
      console.log(`wrote ${roster.students.length} student sheets and index.md into ${options.out} (mode 0600): hand each student only their own`);
    });
}
