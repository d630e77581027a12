/**
 * `npm run classroom -- capacity [--concurrency F] [--workspace-mib N]`: the memory and disk the
 * roster needs against this host's; exits 1 with one line when it does not fit.
 */
import * as fs from "fs";
import * as os from "os";
import { Command, InvalidArgumentError } from "commander";
import type { WeekConfig } from "../../../config/schema";
import { capacity, type CapacityReport } from "../capacity";
import { loadClassroom } from "../context";
import { docker } from "../docker";

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`must be a share of the class between 0 and 1, got ${JSON.stringify(value)}`);
  return n;
}

function mib(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be a whole number of MiB, got ${JSON.stringify(value)}`);
  return n;
}

/** Free MiB of the filesystem holding Docker's data (the project folder when Docker does not answer). */
export function freeDiskMiB(fallback: string): number {
  let dir = fallback;
  try {
    dir = docker(["info", "--format", "{{.DockerRootDir}}"]).trim() || fallback;
  } catch {
    // no engine: the project's disk is the best guess
  }
  const stats = fs.statfsSync(fs.existsSync(dir) ? dir : fallback);
  return Math.floor((stats.bavail * stats.bsize) / (1024 * 1024));
}

/** The class of this configuration against this host. */
export function classCapacity(config: WeekConfig, students: number, root: string, options: { concurrency?: number; workspaceMiB?: number } = {}): CapacityReport {
  return capacity({
    students,
    concurrency: options.concurrency,
    withApi: config.classroom.services.includes("api"),
    workspaceMiB: options.workspaceMiB ?? 500,
    limitMiB: config.classroom.memoryMiB,
    hostMemoryMiB: Math.floor(os.totalmem() / (1024 * 1024)),
    hostFreeDiskMiB: freeDiskMiB(root),
  });
}

export function command(): Command {
  return new Command("capacity")
    .description("the memory and disk the roster needs, from measured per-student figures, against this host's; exit 1 when it does not fit")
    .option("--concurrency <share>", "share of the class working at once (TLJH's factor), 0-1", fraction, 1)
    .option("--workspace-mib <mib>", "room each student's notebooks may take on disk", mib, 500)
    .action((options: { concurrency: number; workspaceMib: number }) => {
      const { config, roster, root } = loadClassroom();
      const report = classCapacity(config, roster.students.length, root, { concurrency: options.concurrency, workspaceMiB: options.workspaceMib });
      for (const line of report.lines) console.log(line);
      if (!report.fits) {
        console.error(`capacity: ${report.problem}`);
        process.exitCode = 1;
      } else console.log(`capacity: the ${roster.students.length} students of ${roster.file} fit this host`);
    });
}
