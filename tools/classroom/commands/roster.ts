/** `npm run classroom -- roster`: checks the roster and lists the class, one line per student. */
import { Command } from "commander";
import { loadClassroom } from "../context";

export function command(): Command {
  return new Command("roster").description("check the roster and list the students, one line each").action(() => {
    const { config, roster } = loadClassroom();
    for (const s of roster.students) console.log(`${s.id}\t${s.name}\t${s.email}\t(line ${s.line})`);
    console.log(`${roster.file}: ${roster.students.length} student${roster.students.length === 1 ? "" : "s"} in course ${config.classroom.course}`);
  });
}
