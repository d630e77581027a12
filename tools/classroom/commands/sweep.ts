/**
 * `npm run classroom -- sweep [--yes]`: containers, networks and volumes labelled with the course
 * whose student is no longer in the roster: listed, and with --yes removed (containers, then
 * networks, then volumes, then the student's secrets folder, so that the next synth stops
 * keeping their volumes).
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { loadClassroom } from "../context";
import { courseObjects, docker, type LabelledObject } from "../docker";
import { classStateDir } from "../secrets";

/** The course's objects whose `student` label names no student of the roster. */
export function orphans(objects: readonly LabelledObject[], ids: ReadonlySet<string>): LabelledObject[] {
  return objects.filter((o) => o.labels.student !== undefined && !ids.has(o.labels.student));
}

export function command(): Command {
  return new Command("sweep")
    .description("list (and with --yes remove) the course's containers, networks and volumes whose student left the roster")
    .option("--yes", "remove them, volumes (the notebooks and databases) included")
    .action((options: { yes?: boolean }) => {
      const { config, roster, root } = loadClassroom();
      const course = config.classroom.course;
      const found = orphans(courseObjects(course), new Set(roster.students.map((s) => s.id)));
      if (found.length === 0) {
        console.log(`sweep: nothing of course ${course} outside the roster`);
        return;
      }
      for (const o of found) console.log(`${options.yes === true ? "removing" : "found"} ${o.kind} ${o.name} (student ${o.labels.student})`);
      if (options.yes !== true) {
        console.log(`sweep: ${found.length} object(s) of students no longer in ${roster.file}; run with --yes to remove them (volumes included: their notebooks and databases are lost)`);
        return;
      }
      const of = (kind: string) => found.filter((o) => o.kind === kind).map((o) => o.name);
      if (of("container").length > 0) docker(["rm", "-f", ...of("container")]);
      if (of("network").length > 0) docker(["network", "rm", ...of("network")]);
      if (of("volume").length > 0) docker(["volume", "rm", ...of("volume")]);
      for (const id of new Set(found.map((o) => o.labels.student))) {
        fs.rmSync(path.join(root, classStateDir(course), id), { recursive: true, force: true });
      }
      console.log(`sweep: removed ${found.length} object(s) and the secrets of ${[...new Set(found.map((o) => o.labels.student))].join(", ")}`);
    });
}
