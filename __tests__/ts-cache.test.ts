/** scripts/ts-cache.js, the loader of `npm run synth` and `cdktf synth`: transpile once, reuse until the source changes. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LOADER = path.join(__dirname, "..", "scripts", "ts-cache.js");

describe("the synth's TypeScript cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-ts-cache-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(file: string) {
    return spawnSync(process.execPath, ["-r", LOADER, file], {
      encoding: "utf8",
      env: { ...process.env, WEEK_TS_CACHE_DIR: path.join(dir, "cache") },
    });
  }
  const entries = () => fs.readdirSync(path.join(dir, "cache")).filter((name) => name.endsWith(".js"));

  it("runs TypeScript, reuses the cached output, and recompiles a file whose content changed", () => {
    const file = path.join(dir, "app.ts");
    const helper = path.join(dir, "helper.ts");
    fs.writeFileSync(helper, "export const greet = (name: string): string => `hello ${name}`;\n");
    fs.writeFileSync(file, 'import { greet } from "./helper";\nconst who: string = "week";\nconsole.log(greet(who));\n');

    const first = run(file);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("hello week\n");
    expect(entries()).toHaveLength(2);

    const before = new Map(entries().map((name) => [name, fs.statSync(path.join(dir, "cache", name)).mtimeMs]));
    expect(run(file).stdout).toBe("hello week\n");
    for (const [name, mtime] of before) expect(fs.statSync(path.join(dir, "cache", name)).mtimeMs).toBe(mtime);

    fs.writeFileSync(helper, "export const greet = (name: string): string => `bonjour ${name}`;\n");
    expect(run(file).stdout).toBe("bonjour week\n");
    expect(entries()).toHaveLength(3);
  });

  it("reports a syntax error with the file name and does not cache it", () => {
    const file = path.join(dir, "broken.ts");
    fs.writeFileSync(file, "const x: number = ;\n");
    const result = run(file);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("broken.ts");
    expect(fs.existsSync(path.join(dir, "cache")) ? entries() : []).toHaveLength(0);
  });
});
