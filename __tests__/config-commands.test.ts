/** Every command that reads the configuration loads it the same way (config/load.ts), and refuses a bad one the same way. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { weekConfigPath, WeekConfigError } from "../config/load";

const ROOT = path.join(__dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-config-commands-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bad = path.join(dir, "bad.json");
fs.writeFileSync(bad, JSON.stringify({ api: { hostPort: 0 } }));

describe("the commands that read week.config.json", () => {
  it.each([
    ["npm run synth", ["main.ts"]],
    ["npm run compose", ["scripts/write-compose.ts", "--check"]],
    ["npm run database-env", ["scripts/write-database-env.ts", path.join(dir, "database.env")]],
  ])("%s refuses an invalid configuration with one line naming the field and the value, and exit 1", (_name, args) => {
    const run = spawnSync(process.execPath, ["-r", "./scripts/ts-cache.js", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WEEK_CONFIG: bad, CDKTF_OUTDIR: path.join(dir, "cdktf.out") },
    });
    expect(run.stderr.trim().split("\n")).toEqual([`${path.relative(ROOT, bad)} is invalid: api.hostPort must be a whole number between 1 and 65535, got 0`]);
    expect(run.status).toBe(1);
    expect(fs.existsSync(path.join(dir, "database.env"))).toBe(false);
  }, 30000);

  it("none of them repeats the loading boilerplate: they call loadWeekConfigOrExit", () => {
    const commands = ["main.ts", ...fs.readdirSync(path.join(ROOT, "scripts")).filter((f) => f.endsWith(".ts")).map((f) => path.join("scripts", f))];
    const repeating = commands.filter((file) => /WeekConfigError|loadWeekConfig\(/.test(fs.readFileSync(path.join(ROOT, file), "utf8")));
    expect(repeating).toEqual([]);
  });
});

describe("weekConfigPath", () => {
  it("is WEEK_CONFIG resolved from the working folder, else week.config.json there", () => {
    expect(weekConfigPath({ WEEK_CONFIG: "conf/a.json" }, "/p")).toBe("/p/conf/a.json");
    expect(weekConfigPath({ WEEK_CONFIG: "/etc/week.json" }, "/p")).toBe("/etc/week.json");
    expect(weekConfigPath({}, "/p")).toBe("/p/week.config.json");
  });

  it("refuses an empty WEEK_CONFIG, as loading does", () => {
    expect(() => weekConfigPath({ WEEK_CONFIG: " " }, "/p")).toThrow(WeekConfigError);
    expect(() => weekConfigPath({ WEEK_CONFIG: " " }, "/p")).toThrow('WEEK_CONFIG is invalid: is empty; unset it to read week.config.json, or name a file, got " "');
  });
});
