/** `npm run doctor -- classroom`: the roster reads, and the class fits this host (capacity). */
import * as path from "path";
import type { WeekConfig } from "../../config/schema";
import { readRoster, RosterError } from "../../config/roster";
import { classCapacity } from "./commands/capacity";

export interface ClassroomCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export function classroomChecks(config: WeekConfig, root: string): ClassroomCheck[] {
  const file = config.classroom.roster;
  if (file === undefined) {
    return [{ name: "classroom roster", ok: false, detail: "classroom.roster is not set", fix: 'add {"classroom": {"roster": "roster.csv"}} to week.config.json (header id,name,email)' }];
  }
  let students: number;
  try {
    students = readRoster(file, root).students.length;
  } catch (error) {
    if (!(error instanceof RosterError)) throw error;
    return [{ name: "classroom roster", ok: false, detail: error.problems.join("; "), fix: `fix ${path.basename(file)} (npm run classroom -- roster lists its problems)` }];
  }
  const report = classCapacity(config, students, root);
  return [
    { name: "classroom roster", ok: true, detail: `${file}: ${students} students` },
    report.fits
      ? { name: "classroom capacity", ok: true, detail: report.lines[0] }
      : { name: "classroom capacity", ok: false, detail: report.problem ?? "does not fit", fix: "npm run classroom -- capacity shows the formula; try --concurrency" },
  ];
}
