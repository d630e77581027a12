import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { maskSecrets } from "../tools/classroom/git-mirror";
import { evaluate, progress, slotsOf, snapshot, toCsv, toHtml, toTable } from "../tools/classroom/progress";
import { readSnapshots } from "../tools/classroom/snapshots";
import { zonedInstant } from "../tools/classroom/zoned-time";
import { execFileSync } from "child_process";
import { addCommit, makeRepo } from "./support/classroom-repos";
import { bareCopies, serveGitOverHttp } from "./support/git-http-server";

const PARIS = { timezone: "Europe/Paris", deadlines: ["11:30", "16:30"] };
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-progress-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("deadlines in the course's time zone", () => {
  test("11:30 in Paris is 09:30 UTC before the October change and 10:30 UTC after it", () => {
    expect(zonedInstant("2026-10-24", "11:30", "Europe/Paris").toISOString()).toBe("2026-10-24T09:30:00.000Z");
    expect(zonedInstant("2026-10-26", "11:30", "Europe/Paris").toISOString()).toBe("2026-10-26T10:30:00.000Z");
  });

  test("the day of the change starts at midnight summer time and its 11:30 is winter time", () => {
    const [morning, afternoon] = slotsOf(PARIS, "2026-10-25", "2026-10-25");
    expect(morning.start.toISOString()).toBe("2026-10-24T22:00:00.000Z");
    expect(morning.end.toISOString()).toBe("2026-10-25T10:30:00.000Z");
    expect(afternoon.start).toEqual(morning.end);
    expect(afternoon.end.toISOString()).toBe("2026-10-25T15:30:00.000Z");
  });

  test("a commit at 10:15 UTC the Monday after the change is before 11:30 Paris (a fixed +2 offset would say 12:15)", () => {
    const slots = slotsOf(PARIS, "2026-10-26", "2026-10-26");
    const cells = evaluate(slots, [{ hash: "a".repeat(40), committedAt: new Date("2026-10-26T10:15:00Z") }], [], new Date("2026-10-27T00:00:00Z"));
    expect(cells.map((c) => c.status)).toEqual(["pushed", "missing"]);
  });

  test("a commit exactly at the deadline counts for it, one second later for the next", () => {
    const slots = slotsOf(PARIS, "2026-10-27", "2026-10-27");
    const at = (iso: string) => [{ hash: "b".repeat(40), committedAt: new Date(iso) }];
    const now = new Date("2026-10-28T00:00:00Z");
    expect(evaluate(slots, at("2026-10-27T10:30:00Z"), [], now).map((c) => c.status)).toEqual(["pushed", "missing"]);
    expect(evaluate(slots, at("2026-10-27T10:30:01Z"), [], now).map((c) => c.status)).toEqual(["missing", "pushed"]);
  });

  test("a deadline still ahead without a push is pending, not missing", () => {
    const slots = slotsOf(PARIS, "2026-10-27", "2026-10-27");
    expect(evaluate(slots, [], [], new Date("2026-10-27T12:00:00Z")).map((c) => c.status)).toEqual(["missing", "pending"]);
  });

  test("refuses deadlines out of order and a bad time zone, naming the value", () => {
    expect(() => slotsOf({ timezone: "Europe/Paris", deadlines: ["16:30", "11:30"] }, "2026-10-27", "2026-10-27")).toThrow(
      "classroom.deadlines must be in increasing order, got 16:30, 11:30",
    );
    expect(() => slotsOf({ timezone: "Mars/Olympus", deadlines: ["11:30"] }, "2026-10-27", "2026-10-27")).toThrow('classroom.timezone must be an IANA time zone such as Europe/Paris, got "Mars/Olympus"');
    expect(() => slotsOf(PARIS, "2026-02-30", "2026-03-01")).toThrow('must be a date as YYYY-MM-DD, got "2026-02-30"');
  });
});

describe("progress over real repositories", () => {
  test("reports pushed and missing per deadline, one error line for an unreadable repository, as CSV", async () => {
    const ada = makeRepo(path.join(tmp, "ada"), ["2026-11-02T09:00:00Z", "2026-11-02T14:00:00Z", "2026-11-03T08:00:00Z"]);
    const bob = makeRepo(path.join(tmp, "bob"), ["2026-11-02T15:15:00Z"]);
    const report = await progress(
      [
        { id: "ada", repositoryUrl: "ada" },
        { id: "bob", repositoryUrl: path.join(tmp, "bob") },
        { id: "cyd", repositoryUrl: path.join(tmp, "nowhere") },
        { id: "dan" },
      ],
      PARIS,
      { since: "2026-11-02", until: "2026-11-03", cacheDir: path.join(tmp, "cache"), baseDir: tmp, now: new Date("2026-11-04T00:00:00Z") },
    );
    expect(toCsv(report)).toBe(
      [
        "student,date,deadline,status,commit,source",
        `ada,2026-11-02,11:30,pushed,${ada[0].slice(0, 7)},commit-date`,
        `ada,2026-11-02,16:30,pushed,${ada[1].slice(0, 7)},commit-date`,
        `ada,2026-11-03,11:30,pushed,${ada[2].slice(0, 7)},commit-date`,
        "ada,2026-11-03,16:30,missing,,commit-date",
        "bob,2026-11-02,11:30,missing,,commit-date",
        `bob,2026-11-02,16:30,pushed,${bob[0].slice(0, 7)},commit-date`,
        "bob,2026-11-03,11:30,missing,,commit-date",
        "bob,2026-11-03,16:30,missing,,commit-date",
        "cyd,,,error,,",
        "dan,,,error,,",
        "",
      ].join("\n"),
    );
    const table = toTable(report);
    expect(table).toMatch(/^cyd +error: git clone: .*nowhere/m);
    expect(table).toMatch(/^dan +error: no repository_url in the roster$/m);
    expect(table).toContain("which the student sets");
  });

  test("a second run fetches what was pushed since into the cache", async () => {
    const dir = path.join(tmp, "ada");
    makeRepo(dir, ["2026-11-02T09:00:00Z"]);
    const options = { since: "2026-11-02", until: "2026-11-02", cacheDir: path.join(tmp, "cache"), baseDir: tmp, now: new Date("2026-11-03T00:00:00Z") };
    const students = [{ id: "ada", repositoryUrl: dir }];
    expect((await progress(students, PARIS, options)).students[0].cells.map((c) => c.status)).toEqual(["pushed", "missing"]);
    addCommit(dir, "2026-11-02T14:00:00Z");
    expect((await progress(students, PARIS, options)).students[0].cells.map((c) => c.status)).toEqual(["pushed", "pushed"]);
  });

  test("reads repositories over git's HTTP protocol (clone, then fetch) on loopback", async () => {
    const ada = makeRepo(path.join(tmp, "work", "ada"), ["2026-11-02T09:00:00Z"]);
    const bob = makeRepo(path.join(tmp, "work", "bob"), ["2026-11-02T15:00:00Z"]);
    const served = path.join(tmp, "served");
    bareCopies(["ada", "bob"].map((id) => ({ id, repositoryUrl: path.join(tmp, "work", id) })), served);
    const server = await serveGitOverHttp(served);
    try {
      const students = ["ada", "bob"].map((id) => ({ id, repositoryUrl: `${server.url}/${id}.git` }));
      const cacheDir = path.join(tmp, "cache");
      const options = { since: "2026-11-02", until: "2026-11-02", cacheDir, baseDir: tmp, now: new Date("2026-11-03T00:00:00Z") };
      const cells = async () => (await progress(students, PARIS, options)).students.map((s) => [s.student, s.error ?? s.cells.map((c) => `${c.status} ${c.commit?.slice(0, 7) ?? ""}`)]);
      expect(await cells()).toEqual([
        ["ada", [`pushed ${ada[0].slice(0, 7)}`, "missing "]],
        ["bob", ["missing ", `pushed ${bob[0].slice(0, 7)}`]],
      ]);
      expect(execFileSync("git", ["config", "--get", "remote.origin.url"], { cwd: path.join(cacheDir, "ada.git"), encoding: "utf8" }).trim()).toBe(`${server.url}/ada.git`);
      const late = addCommit(path.join(tmp, "work", "ada"), "2026-11-02T14:00:00Z");
      execFileSync("git", ["push", "--quiet", path.join(served, "ada.git"), "HEAD"], { cwd: path.join(tmp, "work", "ada"), env: { PATH: process.env.PATH, HOME: tmp } });
      expect((await cells())[0]).toEqual(["ada", [`pushed ${ada[0].slice(0, 7)}`, `pushed ${late.slice(0, 7)}`]]);
    } finally {
      await server.close();
    }
  });

  test("snapshots win over a back-dated commit, and say so", async () => {
    const dir = path.join(tmp, "eve");
    makeRepo(dir, ["2026-11-01T09:00:00Z"]);
    const students = [{ id: "eve", repositoryUrl: dir }];
    const snapshotsFile = path.join(tmp, "teacher", "snapshots.jsonl");
    const base = { cacheDir: path.join(tmp, "cache"), baseDir: tmp, snapshotsFile };
    // the teacher snapshots at the end of the day before and at each deadline of 2 November
    await snapshot(students, { ...base, now: () => new Date("2026-11-01T15:31:00Z") });
    await snapshot(students, { ...base, now: () => new Date("2026-11-02T10:31:00Z") });
    // after 11:30, eve commits with a date of 11:00 and pushes
    addCommit(dir, "2026-11-02T10:00:00Z");
    await snapshot(students, { ...base, now: () => new Date("2026-11-02T15:30:30Z") });
    expect((fs.statSync(snapshotsFile).mode & 0o777).toString(8)).toBe("600");
    expect(readSnapshots(snapshotsFile)).toHaveLength(3);

    const withSnapshots = await progress(students, PARIS, { ...base, since: "2026-11-02", until: "2026-11-02", now: new Date("2026-11-03T00:00:00Z") });
    expect(withSnapshots.students[0].cells.map((c) => [c.status, c.source])).toEqual([
      ["missing", "snapshot"],
      ["pushed", "snapshot"],
    ]);
    const trusting = await progress(students, PARIS, { ...base, snapshotsFile: undefined, since: "2026-11-02", until: "2026-11-02", now: new Date("2026-11-03T00:00:00Z") });
    expect(trusting.students[0].cells.map((c) => [c.status, c.source])).toEqual([
      ["pushed", "commit-date"],
      ["missing", "commit-date"],
    ]);
  });

  test("a token for private repositories is never shown in an error", async () => {
    const env = { ...process.env, CLASSROOM_GIT_TOKEN: "ghp_supersecret123", CLASSROOM_GIT_TOKEN_HOST: "127.0.0.1:9" };
    const report = await progress([{ id: "ada", repositoryUrl: "https://user:hunter2@127.0.0.1:9/ada/week.git?token=ghp_supersecret123" }], PARIS, {
      since: "2026-11-02",
      until: "2026-11-02",
      cacheDir: path.join(tmp, "cache"),
      baseDir: tmp,
      env,
    });
    const error = report.students[0].error ?? "";
    expect(error).toMatch(/^git clone: /);
    expect(error).not.toContain("supersecret");
    expect(error).not.toContain("hunter2");
    expect(maskSecrets(`x ghp_supersecret123 ${Buffer.from("x-access-token:ghp_supersecret123").toString("base64")}`, env)).toBe("x *** ***");
  });

  test("the HTML page has a row per student and a column per deadline, coloured by status", async () => {
    makeRepo(path.join(tmp, "ada"), ["2026-11-02T09:00:00Z"]);
    const report = await progress([{ id: "ada", repositoryUrl: path.join(tmp, "ada") }, { id: "<b>x" }], PARIS, {
      since: "2026-11-02",
      until: "2026-11-02",
      cacheDir: path.join(tmp, "cache"),
      baseDir: tmp,
      now: new Date("2026-11-03T00:00:00Z"),
    });
    const html = toHtml(report);
    expect(html.match(/<tr><th scope="row">/g)).toHaveLength(2);
    expect(html).toMatch(/<td class="pushed"[^>]*>&#10003;/);
    expect(html).toMatch(/<td class="missing"/);
    expect(html).toContain("&#60;b&#62;x");
    expect(html).not.toContain("<b>x");
  });
});

describe("npm run classroom -- progress", () => {
  const ROOT = path.join(__dirname, "..");
  function classroom(args: string[]) {
    const run = require("child_process").spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts", "ts-cache.js"), path.join(ROOT, "scripts", "classroom.ts"), ...args], {
      cwd: tmp,
      encoding: "utf8",
      env: { ...process.env, WEEK_CONFIG: undefined },
    });
    return { status: run.status as number, stdout: run.stdout as string, stderr: run.stderr as string };
  }

  test("reads the roster's repositories, writes CSV and HTML, and records snapshots in the teacher's file", () => {
    const ada = makeRepo(path.join(tmp, "repos", "ada"), ["2026-11-02T09:00:00Z"]);
    fs.writeFileSync(path.join(tmp, "roster.csv"), `id,name,email,repository_url\nada,Ada,ada@example.org,file://${tmp}/repos/ada\nbob,Bob,bob@example.org,file://${tmp}/repos/bob\n`);
    fs.writeFileSync(path.join(tmp, "week.config.json"), JSON.stringify({ classroom: { roster: "roster.csv", course: "m2" } }));

    const csv = classroom(["progress", "--since", "2026-11-02", "--until", "2026-11-02", "--format", "csv"]);
    expect(csv.status).toBe(0);
    expect(csv.stdout).toBe(`student,date,deadline,status,commit,source\nada,2026-11-02,11:30,pushed,${ada[0].slice(0, 7)},commit-date\nada,2026-11-02,16:30,missing,,commit-date\nbob,,,error,,\n`);
    expect(csv.stderr).toMatch(/^bob: git clone: fatal: .*bob/m);
    expect(csv.stderr).toContain("which the student sets");

    const html = classroom(["progress", "--since", "2026-11-02", "--until", "2026-11-02", "--format", "html", "--out", "report/progress.html"]);
    expect(html.status).toBe(0);
    expect(fs.readFileSync(path.join(tmp, "report", "progress.html"), "utf8")).toContain("<title>Daily pushes: m2</title>");

    const snap = classroom(["progress", "snapshot"]);
    expect(snap.status).toBe(0);
    expect(snap.stdout).toMatch(new RegExp(`^ada\\t${ada[0].slice(0, 7)}\\t`, "m"));
    expect(snap.stdout).toMatch(/^bob\terror: git clone: /m);
    expect(readSnapshots(path.join(tmp, "state", "classroom", "m2", "progress-snapshots.jsonl")).map((s) => s.student)).toEqual(["ada", "bob"]);
  });

  test("a bad date is one line naming the option", () => {
    fs.writeFileSync(path.join(tmp, "roster.csv"), "id,name,email\nada,Ada,ada@example.org\n");
    fs.writeFileSync(path.join(tmp, "week.config.json"), JSON.stringify({ classroom: { roster: "roster.csv" } }));
    const run = classroom(["progress", "--since", "2026-13-01"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('classroom progress: --since must be a date as YYYY-MM-DD, got "2026-13-01"\n');
  });
});
