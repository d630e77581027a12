/** package.json declares each package once, and every runtime dependency is one the code imports. */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../constructs/paths";

const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The TypeScript and JavaScript the synth and the scripts run (not tests, not node_modules, not build output). */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node_modules", "cdktf.out", "__tests__", ".git", ".venv", "lambdas-src"].includes(entry.name) ? [] : sources(full);
    return /\.(ts|js)$/.test(entry.name) ? [full] : [];
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("package.json", () => {
  it("lists no package both as a dependency and a devDependency", () => {
    const twice = Object.keys(manifest.dependencies).filter((name) => name in manifest.devDependencies);
    expect(twice).toEqual([]);
  });

  it("declares only runtime dependencies that the code imports", () => {
    const text = sources(PROJECT_ROOT).map((file) => fs.readFileSync(file, "utf8")).join("\n");
    const unused = Object.keys(manifest.dependencies).filter(
      (name) => !new RegExp(`(from |require\\()"${escape(name)}(/[^"]*)?"`).test(text),
    );
    expect(unused).toEqual([]);
  });

  it("pins every package to an exact version", () => {
    const ranges = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version));
    expect(ranges).toEqual([]);
  });
});
