/**
 * The Compose commands students copy from docs/course.md (and the README) work as written:
 * run by bash in a copy of the project with a `docker` that records each call, they give every
 * `docker compose` the variables docker-compose.yml requires, and Debian's docker-compose, where
 * installed, accepts the file with them. tests/images/test_compose.py runs the same block of
 * docs/course.md on a real engine; this test keeps the two reading the same block.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderSandboxDockerfile } from "../constructs/local/sandbox-image";

const ROOT = path.join(__dirname, "..");
const MARKER = "<!-- week:compose-commands";

/** The ```sh block after the marker, as test_compose.py reads it. */
function commandsOf(file: string): string {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const parts = text.split(MARKER);
  if (parts.length !== 2) throw new Error(`${file} must hold one ${MARKER} marker, got ${parts.length - 1}`);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(parts[1]);
  if (block === null) throw new Error(`no sh block after ${MARKER} in ${file}`);
  return block[1];
}

/** `${NAME:?...}`: the variables Compose refuses to run without. */
const REQUIRED = [...new Set([...fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8").matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]))].sort();

interface Call {
  args: string[];
  env: Record<string, string>;
}

/**
 * Runs the block in a copy of the project; `docker` records its arguments and environment.
 * `--norc`: bash reads /etc/bash.bashrc when its stdin is a socket, as node's pipes are.
 */
function runCommands(block: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-course-doc-"));
  fs.copyFileSync(path.join(ROOT, "docker-compose.yml"), path.join(dir, "docker-compose.yml"));
  fs.symlinkSync(path.join(ROOT, "lambdas-src"), path.join(dir, "lambdas-src"));
  fs.mkdirSync(path.join(dir, "bin"));
  const recorder = `#!${process.execPath}\nconst fs = require("fs");\nfs.appendFileSync(${JSON.stringify(path.join(dir, "calls.jsonl"))}, JSON.stringify({ args: process.argv.slice(2), env: process.env }) + "\\n");\n`;
  fs.writeFileSync(path.join(dir, "bin", "docker"), recorder, { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`, HOME: dir };
  const run = spawnSync("bash", ["--norc", "-euo", "pipefail", "-c", block], { cwd: dir, encoding: "utf8", env });
  const log = path.join(dir, "calls.jsonl");
  const calls: Call[] = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Call) : [];
  return { dir, run, calls };
}

/** The KEY=value lines of an env file, as Compose's --env-file reads them. */
function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

const hasCompose = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" }).status === 0;

describe.each(["docs/course.md", "README.md"])("the Compose commands of %s", (file) => {
  const { dir, run, calls } = runCommands(commandsOf(file));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("run to the end under bash -euo pipefail", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(calls.length).toBeGreaterThan(0);
  });

  it("give every docker compose call the variables docker-compose.yml requires", () => {
    expect(REQUIRED).toEqual(["JUPYTER_TOKEN", "POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER"]);
    for (const call of calls) {
      expect(call.args[0]).toBe("compose");
      const at = call.args.indexOf("--env-file");
      const fromFile = at < 0 ? {} : envFile(path.join(dir, call.args[at + 1]));
      const missing = REQUIRED.filter((name) => !(call.env[name] ?? fromFile[name]));
      expect({ call: call.args.join(" "), missing }).toEqual({ call: call.args.join(" "), missing: [] });
    }
  });

  it("bring the week up with a build, and write database.env for the owner alone", () => {
    expect(calls.map((c) => c.args.join(" "))).toContain("compose --env-file database.env up -d --build");
    expect(fs.statSync(path.join(dir, "database.env")).mode & 0o777).toBe(0o600);
    expect(envFile(path.join(dir, "database.env")).POSTGRES_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
  });

  (hasCompose ? it : it.skip)("are accepted by docker-compose config with what they set", () => {
    const up = calls.find((c) => c.args.includes("up"));
    const config = spawnSync("docker-compose", ["-p", "tshygiene-course-doc", "--env-file", "database.env", "config", "-q"], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH, JUPYTER_TOKEN: up?.env.JUPYTER_TOKEN },
    });
    expect(config.stderr).toBe("");
    expect(config.status).toBe(0);
  });
});

describe("docs/course.md's Compose commands", () => {
  it("print the Jupyter link with the token they set", () => {
    const { dir, run, calls } = runCommands(commandsOf("docs/course.md"));
    try {
      const token = calls.find((c) => c.args.includes("up"))?.env.JUPYTER_TOKEN ?? "";
      expect(token).toMatch(/^[0-9a-f]{48}$/);
      expect(run.stdout).toContain(`Jupyter: http://127.0.0.1:8000/tree?token=${token}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are the block the Compose image test runs, read the same way", () => {
    const test = fs.readFileSync(path.join(ROOT, "tests", "images", "test_compose.py"), "utf8");
    expect(test).toContain(`COMMANDS_MARKER = "${MARKER}"`);
    expect(test).toContain('COURSE_DOC = ROOT / "docs" / "course.md"');
    expect(test).toContain('["bash", "--norc", "-euo", "pipefail", "-c", course_commands()]');
    expect(test).toContain('r"^```sh\\n(.*?)^```$"');
  });
});

describe("README: your identity and repository before the first deploy", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const firstSection = readme.slice(readme.indexOf("\n## "), readme.indexOf("\n## ", readme.indexOf("\n## ") + 1));
  const override = (() => {
    const after = readme.split("<!-- week:compose-identity")[1] ?? "";
    const block = /^```yaml\n([\s\S]*?)^```$/m.exec(after);
    if (block === null) throw new Error("no yaml block after the week:compose-identity marker in README.md");
    return block[1];
  })();

  it("is the README's first section, naming the configuration file and its example", () => {
    expect(firstSection).toContain("## Before the first deploy: your name, e-mail and repository");
    for (const words of ["week.config.example.json", "week.config.json", "sandbox.gitUserName", "sandbox.gitUserEmail", "sandbox.gitRepositoryUrl", "docker-compose.override.yml"]) {
      expect(firstSection).toContain(words);
    }
  });

  it("gives Compose users the variables the configuration's settings become in the sandbox", () => {
    const environment = (parse(override) as { services: { sandbox: { environment: Record<string, string> } } }).services.sandbox.environment;
    const dockerfile = renderSandboxDockerfile({ gitUserName: "N", gitUserEmail: "e@example.com", gitRepositoryUrl: "https://example.com/r.git" });
    expect(dockerfile).toContain('GIT_USER_NAME="N"');
    expect(dockerfile).toContain('GIT_USER_EMAIL="e@example.com"');
    expect(dockerfile).toContain('GIT_REPO_URL="https://example.com/r.git"');
    expect(Object.keys(environment).sort()).toEqual(["GIT_REPO_URL", "GIT_USER_EMAIL", "GIT_USER_NAME"]);
  });

  (hasCompose ? it : it.skip)("reaches the sandbox's environment through docker-compose.override.yml", () => {
    const { dir, calls } = runCommands(commandsOf("docs/course.md"));
    try {
      fs.writeFileSync(path.join(dir, "docker-compose.override.yml"), override);
      const config = spawnSync("docker-compose", ["-p", "tshygiene-course-doc", "--env-file", "database.env", "config"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH, JUPYTER_TOKEN: calls.find((c) => c.args.includes("up"))?.env.JUPYTER_TOKEN },
      });
      expect(config.status).toBe(0);
      const sandbox = (parse(config.stdout) as { services: { sandbox: { environment: Record<string, string> } } }).services.sandbox.environment;
      expect(sandbox).toMatchObject({ GIT_USER_NAME: "Ada Lovelace", GIT_USER_EMAIL: "ada.lovelace@example.com", GIT_REPO_URL: "https://github.com/ada/week-m2-iot.git" });
      expect(sandbox.JUPYTER_TOKEN).toMatch(/^[0-9a-f]{48}$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
