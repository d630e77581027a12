/**
 * Does the class fit this host? Memory and disk the roster needs, from per-student figures
 * measured here (README: Classroom), against the host's. The Littlest JupyterHub's sizing rule,
 * with the whole bundle as the "user": memory = active students x active bundle + idle students
 * x idle bundle + the proxy + 128 MiB for the system; `concurrency` is the share of the class
 * working at once (TLJH's factor; 1, the default, is a class that starts at 9:00 together).
 */

/** Figures measured on this project's 2-core, 24 GiB machine (see README: Classroom). */
export interface BundleFigures {
  /** One idle student's bundle (sandbox with Jupyter up, PostgreSQL, API when on), MiB. */
  readonly idleBundleMiB: number;
  /** One working student's bundle: idle plus a kernel with the course's libraries loaded, MiB. */
  readonly activeBundleMiB: number;
  /** The API container, idle, MiB (included in the bundle figures when the class has the API). */
  readonly apiMiB: number;
  /** The proxy, MiB. */
  readonly proxyMiB: number;
  /** A new student's volumes and container layers on disk, MiB (the database's cluster, mostly). */
  readonly diskPerStudentMiB: number;
  /** The class's images (sandbox, API, PostgreSQL, nginx), once, MiB. */
  readonly imagesMiB: number;
}

/**
 * Measured here (`npm run bench -- classroom`, docker stats 30 s after 25 students were ready,
 * 2026-12-06, images of this tree on the stand-in bases): an idle bundle (sandbox, database, API)
 * 138 MiB median, 145 max; per service, medians: sandbox 55 MiB, PostgreSQL 34, the API 49 (its
 * course model served with NumPy alone); the proxy 6 MiB. A working student adds a kernel with
 * the course's libraries loaded (numpy, pandas, scikit-learn, psycopg: 196 MiB RSS, plus
 * ipykernel), 230 MiB with the earlier figures' margin. A new student's database volume 48 MB;
 * the images 1,250 + 247 + 377 + 89 MB.
 */
export const MEASURED: BundleFigures = {
  idleBundleMiB: 140,
  activeBundleMiB: 370,
  apiMiB: 50,
  proxyMiB: 10,
  diskPerStudentMiB: 60,
  imagesMiB: 1900,
};

/** TLJH's allowance for the system itself. */
export const SYSTEM_MIB = 128;

export interface CapacityInput {
  readonly students: number;
  /** Share of the class working at once, 0-1. @default 1 */
  readonly concurrency?: number;
  /** Whether each bundle runs the API. */
  readonly withApi: boolean;
  /** Room each student's workspace may grow to, MiB (no per-volume quota on Docker's local driver). */
  readonly workspaceMiB: number;
  /** The classroom.memoryMiB ceiling of a bundle. */
  readonly limitMiB: number;
  readonly hostMemoryMiB: number;
  readonly hostFreeDiskMiB: number;
  readonly figures?: BundleFigures;
}

export interface CapacityReport {
  readonly lines: string[];
  readonly fits: boolean;
  /** One line saying what does not fit, when something does not. */
  readonly problem?: string;
}

export function capacity(input: CapacityInput): CapacityReport {
  const f = input.figures ?? MEASURED;
  const c = input.concurrency ?? 1;
  const api = input.withApi ? 0 : f.apiMiB; // the figures include the API; without it, less
  const idle = f.idleBundleMiB - api;
  const active = f.activeBundleMiB - api;
  const working = Math.ceil(input.students * c);
  const memory = working * active + (input.students - working) * idle + f.proxyMiB + SYSTEM_MIB;
  const disk = f.imagesMiB + input.students * (f.diskPerStudentMiB + input.workspaceMiB);
  const ceiling = input.students * input.limitMiB + f.proxyMiB + SYSTEM_MIB;
  const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;
  const lines = [
    `memory: ${working} working x ${active} MiB + ${input.students - working} idle x ${idle} MiB + proxy ${f.proxyMiB} MiB + system ${SYSTEM_MIB} MiB = ${gib(memory)} (concurrency ${c}); this host has ${gib(input.hostMemoryMiB)}`,
    `disk: images ${f.imagesMiB} MiB + ${input.students} x (${f.diskPerStudentMiB} MiB + workspace ${input.workspaceMiB} MiB) = ${gib(disk)}; ${gib(input.hostFreeDiskMiB)} free where Docker keeps its data`,
    `limits: ${input.students} x classroom.memoryMiB ${input.limitMiB} MiB = ${gib(ceiling)} if every student used their whole ceiling at once (limits overcommit; the line above is what a class uses)`,
  ];
  const problems = [
    ...(memory > input.hostMemoryMiB ? [`the class needs ${gib(memory)} of memory, this host has ${gib(input.hostMemoryMiB)}`] : []),
    ...(disk > input.hostFreeDiskMiB ? [`the class needs ${gib(disk)} of disk, ${gib(input.hostFreeDiskMiB)} is free`] : []),
  ];
  return { lines, fits: problems.length === 0, problem: problems.length === 0 ? undefined : `${problems.join("; ")}: fewer students per server, a lower concurrency, or a bigger host` };
}
