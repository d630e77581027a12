/** The teacher's commands' logic: the capacity formula, what sweep takes, status's ages. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { capacity, MEASURED, SYSTEM_MIB } from "../tools/classroom/capacity";
import { classroomChecks } from "../tools/classroom/doctor";
import type { LabelledObject } from "../tools/classroom/docker";
import { weekConfig } from "./helpers";
import { age } from "../tools/classroom/commands/status";
import { orphans } from "../tools/classroom/commands/sweep";

describe("capacity", () => {
  const base = { students: 25, withApi: true, workspaceMiB: 500, limitMiB: 2048, hostMemoryMiB: 24 * 1024, hostFreeDiskMiB: 60 * 1024 };

  test("is TLJH's formula with the bundle as the user, shown", () => {
    const report = capacity({ ...base, concurrency: 0.6 });
    const working = Math.ceil(25 * 0.6);
    const expected = working * MEASURED.activeBundleMiB + (25 - working) * MEASURED.idleBundleMiB + MEASURED.proxyMiB + SYSTEM_MIB;
    expect(report.lines[0]).toContain(`${working} working x ${MEASURED.activeBundleMiB} MiB + ${25 - working} idle x ${MEASURED.idleBundleMiB} MiB`);
    expect(report.lines[0]).toContain(`= ${(expected / 1024).toFixed(1)} GiB (concurrency 0.6)`);
    expect(report.fits).toBe(true);
  });

  test("does not fit when memory or disk is short, saying which", () => {
    expect(capacity({ ...base, hostMemoryMiB: 1024 }).problem).toMatch(/^the class needs [\d.]+ GiB of memory, this host has 1.0 GiB/);
    expect(capacity({ ...base, hostFreeDiskMiB: 100 }).problem).toMatch(/^the class needs [\d.]+ GiB of disk, 0.1 GiB is free/);
  });

  test("counts less per student without the API", () => {
    const with_ = capacity(base).lines[0];
    const without = capacity({ ...base, withApi: false }).lines[0];
    expect(without).toContain(`x ${MEASURED.activeBundleMiB - MEASURED.apiMiB} MiB`);
    expect(with_).not.toBe(without);
  });
});

describe("sweep", () => {
  test("takes what is labelled with a student no longer in the roster, never the proxy", () => {
    const objects: LabelledObject[] = [
      { kind: "container", name: "m2-ana-sandbox", labels: { course: "m2", student: "ana" } },
      { kind: "volume", name: "m2-cleo-database-data", labels: { course: "m2", student: "cleo" } },
      { kind: "network", name: "m2-cleo", labels: { course: "m2", student: "cleo" } },
      { kind: "container", name: "m2-proxy", labels: { course: "m2", role: "proxy" } },
    ];
    expect(orphans(objects, new Set(["ana", "ben"])).map((o) => o.name)).toEqual(["m2-cleo-database-data", "m2-cleo"]);
  });
});

describe("status", () => {
  test("says how long ago Jupyter was last used", () => {
    const now = new Date("2026-12-07T10:00:00Z");
    expect(age("2026-12-07T09:59:30Z", now)).toBe("30 s ago");
    expect(age("2026-12-07T09:40:00Z", now)).toBe("20 min ago");
    expect(age("2026-12-07T06:00:00Z", now)).toBe("4.0 h ago");
  });
});

describe("npm run doctor -- classroom", () => {
  test("checks the roster, then the capacity of the class against this host", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-doctor-class-"));
    try {
      fs.writeFileSync(path.join(dir, "roster.csv"), "id,name,email\nada,Ada,ada@example.com\n");
      const checks = classroomChecks(weekConfig({ classroom: { roster: "roster.csv" } }), dir);
      expect(checks.map((c) => [c.name, c.ok])).toEqual([
        ["classroom roster", true],
        ["classroom capacity", true],
      ]);
      expect(checks[1].detail).toMatch(/^memory: 1 working x \d+ MiB/);
      fs.writeFileSync(path.join(dir, "roster.csv"), "id,name,email\nAda,Ada,ada@example.com\n");
      const bad = classroomChecks(weekConfig({ classroom: { roster: "roster.csv" } }), dir);
      expect(bad).toEqual([expect.objectContaining({ name: "classroom roster", ok: false, detail: expect.stringContaining('roster.csv line 2 (id "Ada")') })]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
