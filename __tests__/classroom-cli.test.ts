/**
 * `npm run classroom -- <command>`: one-line errors, exit codes, commands found in
 * tools/classroom/commands/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-classroom-cli-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function classroom(args: string[], files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const run = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts", "ts-cache.js"), path.join(ROOT, "scripts", "classroom.ts"), ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, WEEK_CONFIG: undefined, ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const CONFIG = JSON.stringify({ classroom: { roster: "roster.csv", course: "m2" } });

test("roster lists the students of a valid roster", () => {
  const run = classroom(["roster"], { "week.config.json": CONFIG, "roster.csv": "id,name,email\nada,Ada,ada@example.com\nalan,Alan,alan@example.com\n" });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("roster.csv: 2 students in course m2");
});

test("a bad roster exits 1 with one line per problem and no stack trace", () => {
  const run = classroom(["roster"], { "week.config.json": CONFIG, "roster.csv": "id,name,email\nAda,Ada,ada@example.com\nalan,Alan,nope\n" });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr.trim().split("\n")).toEqual([
    "roster.csv is invalid:",
    '  - roster.csv line 2 (id "Ada"): id must be 1-30 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash, got "Ada" (try "ada")',
    '  - roster.csv line 3 (id "alan"): email must be an e-mail address such as student@example.com, got "nope"',
  ]);
});

test("without classroom.roster the command says how to set it", () => {
  const run = classroom(["roster"], { "week.config.json": "{}" });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/^classroom\.roster is not set: add/);
});

describe("handout", () => {
  const roster = "id,name,email\nada,Ada Lovelace,ada@example.com\nalan,Alan Turing,alan@example.com\n";
  const config = JSON.stringify({ classroom: { roster: "roster.csv", course: "m2", services: ["sandbox", "database", "api"] } });

  test("writes one 0600 sheet per student with their URL, token and password, and the teacher's index; twice, the same", () => {
    const first = classroom(["handout", "--out", "sheets"], { "week.config.json": config, "roster.csv": roster });
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const sheets = path.join(dir, "sheets");
    expect(fs.readdirSync(sheets).sort()).toEqual(["ada.md", "alan.md", "index.md"]);
    for (const f of fs.readdirSync(sheets)) expect(fs.statSync(path.join(sheets, f)).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(path.join(dir, "state/classroom/m2/ada/jupyter_token"), "utf8").trim();
    const password = /POSTGRES_PASSWORD=(\S+)/.exec(fs.readFileSync(path.join(dir, "state/classroom/m2/ada/database.env"), "utf8"))?.[1] as string;
    const ada = fs.readFileSync(path.join(sheets, "ada.md"), "utf8");
    expect(ada).toContain("https://localhost:8443/ada/");
    expect(ada).toContain(token);
    expect(ada).toContain(password);
    expect(ada).toContain("POST https://localhost:8443/ada/api/predict");
    expect(ada).toContain("before 11:30 and 16:30 (Europe/Paris)");
    expect(fs.readFileSync(path.join(sheets, "alan.md"), "utf8")).not.toContain(token);
    const index = fs.readFileSync(path.join(sheets, "index.md"), "utf8");
    expect(index).toContain("| ada | Ada Lovelace | ada@example.com | https://localhost:8443/ada/ | ada.md |");
    expect(index).not.toContain(token);
    const again = classroom(["handout", "--out", "sheets"], {});
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain("new secrets");
    expect(fs.readFileSync(path.join(sheets, "ada.md"), "utf8")).toBe(ada);
  });

  test("needs --out", () => {
    const run = classroom(["handout"], { "week.config.json": config, "roster.csv": roster });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("required option '--out <dir>' not specified");
  });
});

describe("capacity", () => {
  test("exits 1 with one line when the class does not fit this host", () => {
    const many = ["id,name,email", ...Array.from({ length: 200 }, (_, i) => `s${i},S ${i},s${i}@example.com`)].join("\n");
    const run = classroom(["capacity"], { "week.config.json": JSON.stringify({ classroom: { roster: "roster.csv" } }), "roster.csv": many });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("memory: 200 working x");
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^capacity: the class needs [\d.]+ GiB of memory, this host has [\d.]+ GiB/)]);
  });

  test("refuses a concurrency outside 0-1", () => {
    const run = classroom(["capacity", "--concurrency", "2"], { "week.config.json": CONFIG, "roster.csv": "id,name,email\nada,Ada,ada@example.com\n" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('must be a share of the class between 0 and 1, got "2"');
  });
});

describe("status", () => {
  const roster = "id,name,email\nada,Ada,ada@example.com\nalan,Alan,alan@example.com\n";
  const config = JSON.stringify({ classroom: { roster: "roster.csv", course: "m2", services: ["sandbox", "database", "api"] } });

  /** A `docker` on the PATH that answers `ps` with the Nth of SNAPSHOTS at its Nth call (the last one after), `stats` with nothing. */
  function fakeDocker(snapshots: Array<Record<string, string>>): NodeJS.ProcessEnv {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    snapshots.forEach((containers, i) => {
      const lines = Object.entries(containers).map(([name, status]) => `m2-${name}\t${status.startsWith("Exited") ? "exited" : "running"}\t${status}`);
      fs.writeFileSync(path.join(bin, `ps.${i + 1}`), lines.join("\n") + "\n");
    });
    const script = [
      "#!/usr/bin/env bash",
      'here="$(dirname "$0")"',
      'case "$1" in',
      '  ps) n=$(( $(cat "$here/calls" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$here/calls"',
      `      if [ -f "$here/ps.$n" ]; then cat "$here/ps.$n"; else cat "$here/ps.${snapshots.length}"; fi ;;`,
      "  stats) ;;",
      '  *) echo "fake docker: $*" >&2; exit 1 ;;',
      "esac",
    ];
    fs.writeFileSync(path.join(bin, "docker"), script.join("\n") + "\n", { mode: 0o755 });
    return { PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  }

  const every = (status: string): Record<string, string> =>
    Object.fromEntries(["ada", "alan"].flatMap((id) => ["sandbox", "database", "api"].map((s) => [`${id}-${s}`, status])));

  test("says the class is ready, exit 0, when every student's containers run and are healthy", () => {
    const run = classroom(["status"], { "week.config.json": config, "roster.csv": roster }, fakeDocker([every("Up 2 minutes (healthy)")]));
    expect(run.status).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^ada\tsandbox healthy, database healthy, api healthy\t0 MiB\t/);
    expect(run.stderr.trim()).toBe("status: all 2 students ready (every container running and healthy)");
  });

  test("names each student who is not ready and why, exit 1", () => {
    const containers = { ...every("Up 2 minutes (healthy)"), "ada-database": "Up 2 minutes (unhealthy)", "alan-sandbox": "Exited (1) 5 seconds ago" };
    delete (containers as Record<string, string>)["alan-api"];
    const run = classroom(["status"], { "week.config.json": config, "roster.csv": roster }, fakeDocker([containers]));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("alan\tsandbox exited, database healthy, api missing\t");
    expect(run.stderr.trim()).toBe("status: 2 of 2 students not ready: ada (database unhealthy); alan (sandbox exited, api missing)");
  });

  test("--wait waits until the class is ready, saying how many are", () => {
    const starting = every("Up 3 seconds (health: starting)");
    const half = { ...every("Up 40 seconds (healthy)"), "alan-api": "Up 40 seconds (health: starting)" };
    const run = classroom(["status", "--wait", "60"], { "week.config.json": config, "roster.csv": roster }, fakeDocker([starting, half, every("Up 50 seconds (healthy)")]));
    expect(run.status).toBe(0);
    const said = run.stderr.trim().split("\n");
    expect(said[0]).toMatch(/^status: 0 of 2 students ready after 0 s; waiting \(up to 60 s\)$/);
    expect(said[1]).toMatch(/^status: 1 of 2 students ready after [2-5] s; waiting/);
    expect(said.at(-1)).toBe("status: all 2 students ready (every container running and healthy)");
  });

  test("--wait gives up after its seconds, exit 1, naming who is still starting", () => {
    const run = classroom(["status", "--wait", "1"], { "week.config.json": config, "roster.csv": roster }, fakeDocker([every("Up 3 seconds (health: starting)")]));
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n").at(-1)).toBe(
      "status: 2 of 2 students not ready: ada (sandbox health: starting, database health: starting, api health: starting); alan (sandbox health: starting, database health: starting, api health: starting)",
    );
  });

  test.each(["0", "soon", "1.5", "3601"])("--wait %s is refused, naming the value", (value) => {
    const run = classroom(["status", "--wait", value], { "week.config.json": config, "roster.csv": roster }, fakeDocker([every("Up (healthy)")]));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`must be a whole number of seconds between 1 and 3600, got "${value}"`);
  });
});
