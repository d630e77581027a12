import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadWeekConfig, parseWeekConfig } from "../config/load";
import { weekConfigJsonSchema } from "../config/json-schema";
import { problemsOf } from "./helpers";

describe("week configuration", () => {
  it("fills every default from an empty object", () => {
    const config = parseWeekConfig({});
    expect(config.sandbox.hostPort).toBe(8000);
    expect(config.sandbox.baseImage).toBe("ubuntu:24.04");
    expect(config.database.image).toMatch(/^postgres:\d+\.\d+-/);
    expect(config.network.publishOnAllInterfaces).toBe(false);
    expect(config.database.protectVolume).toBe(true);
    expect(config.heroku.postgresPlan).toBe("heroku-postgresql:essential-0");
    expect(config.heroku.dynoSize).toBe("basic");
  });

  it("keeps false and 0 rather than replacing them with defaults", () => {
    const config = parseWeekConfig({ streamlit: { enabled: false }, heroku: { dynoQuantity: 0 }, database: { protectVolume: false } });
    expect(config.streamlit.enabled).toBe(false);
    expect(config.heroku.dynoQuantity).toBe(0);
    expect(config.database.protectVolume).toBe(false);
  });

  it("lets a disabled Streamlit app share a host port", () => {
    expect(() => parseWeekConfig({ streamlit: { enabled: false, hostPort: 8080 } })).not.toThrow();
  });

  // Each case: the configuration, then a fragment the message must hold (field, then value).
  const invalid: Array<[string, unknown, string]> = [
    ["a port above 65535", { sandbox: { hostPort: 70000 } }, "sandbox.hostPort must be a whole number between 1 and 65535, got 70000"],
    ["a port of zero", { api: { hostPort: 0 } }, "api.hostPort must be a whole number between 1 and 65535, got 0"],
    ["a fractional port", { database: { hostPort: 5432.5 } }, "database.hostPort must be a whole number between 1 and 65535, got 5432.5"],
    ["a port given as text", { streamlit: { hostPort: "8501" } }, 'streamlit.hostPort must be a whole number between 1 and 65535, got "8501"'],
    ["two services on one host port", { api: { hostPort: 8000 } }, "api.hostPort is already used by sandbox.hostPort, got 8000"],
    ["Streamlit on the database's port", { streamlit: { hostPort: 5432 } }, "streamlit.hostPort is already used by database.hostPort, got 5432"],
    ["an empty git user name", { sandbox: { gitUserName: "" } }, "sandbox.gitUserName must not be empty"],
    ["a blank git user name", { sandbox: { gitUserName: "   " } }, "sandbox.gitUserName must not be empty"],
    ["a git user name over two lines", { sandbox: { gitUserName: "Ada\nLovelace" } }, "sandbox.gitUserName must not contain line breaks"],
    ["a malformed e-mail", { sandbox: { gitUserEmail: "ada@" } }, 'sandbox.gitUserEmail must be an e-mail address such as student@example.com, got "ada@"'],
    ["an e-mail without a domain", { sandbox: { gitUserEmail: "ada" } }, 'sandbox.gitUserEmail must be an e-mail address such as student@example.com, got "ada"'],
    ["an unknown top-level key", { sandbx: {} }, "sandbx is not a known setting"],
    ["an unknown nested key", { sandbox: { prot: 8000 } }, "sandbox.prot is not a known setting"],
    ["root as the sandbox user", { sandbox: { user: "root" } }, 'sandbox.user must not be root: the sandbox runs as a non-root user, got "root"'],
    ["an upper-case sandbox user", { sandbox: { user: "Student" } }, 'sandbox.user must be a lowercase Linux user name, got "Student"'],
    ["a repository URL holding a token", { sandbox: { gitRepositoryUrl: "https://ada:ghp_secret@github.com/ada/week.git" } }, "sandbox.gitRepositoryUrl must not contain a user, password or token"],
    ["a repository URL with an unknown scheme", { sandbox: { gitRepositoryUrl: "ftp://example.com/repo.git" } }, 'sandbox.gitRepositoryUrl must be an https://, ssh://, git@host:path or file:// URL, got "ftp://example.com/repo.git"'],
    ["an untagged database image", { database: { image: "postgres" } }, 'database.image must be pinned to a tag or a digest, got "postgres"'],
    ["the latest tag", { sandbox: { baseImage: "ubuntu:latest" } }, 'sandbox.baseImage must not use the tag latest, got "ubuntu:latest"'],
    ["an upper-case database user", { database: { user: "Week" } }, 'database.user must be a lowercase SQL name (letters, digits, underscores; 1-63 characters), got "Week"'],
    ["a database name with a dash", { database: { database: "my-db" } }, 'database.database must be a lowercase SQL name (letters, digits, underscores; 1-63 characters), got "my-db"'],
    ["too little memory", { api: { memoryMiB: 16 } }, "api.memoryMiB must be a whole number of MiB between 128 and 8192, got 16"],
    ["a boolean given as text", { network: { publishOnAllInterfaces: "yes" } }, 'network.publishOnAllInterfaces must be true or false, got "yes"'],
    ["a network name with a space", { network: { name: "my week" } }, 'network.name must be a Docker network name (letters, digits, . _ -), got "my week"'],
    ["a Heroku app name with upper case", { heroku: { appName: "Week-API" } }, 'heroku.appName must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "Week-API"'],
    ["a Heroku app name with an underscore", { heroku: { appName: "week_api" } }, 'heroku.appName must be 3 to 30 characters'],
    ["a Heroku app name too long", { heroku: { appName: "a".repeat(31) } }, "heroku.appName must be 3 to 30 characters"],
    ["a Heroku app name ending with a dash", { heroku: { appName: "week-api-" } }, 'got "week-api-"'],
    ["a gone Heroku Postgres plan", { heroku: { postgresPlan: "heroku-postgresql:hobby-dev" } }, 'heroku.postgresPlan must be a current Heroku Postgres plan such as heroku-postgresql:essential-0 (the free hobby plans are gone), got "heroku-postgresql:hobby-dev"'],
    ["an unknown Heroku region", { heroku: { region: "asia" } }, 'heroku.region must be us or eu (the Common Runtime regions), got "asia"'],
    ["an unknown dyno size", { heroku: { dynoSize: "free" } }, 'heroku.dynoSize must be one of eco, basic, standard-1x, standard-2x, performance-m, performance-l, got "free"'],
    ["a malformed Google Cloud project", { gcp: { project: "My Project" } }, 'gcp.project must be a Google Cloud project id: 6 to 30 lowercase letters, digits or dashes, starting with a letter, got "My Project"'],
    ["a malformed Google Cloud region", { gcp: { region: "europe" } }, 'gcp.region must be a Google Cloud region such as europe-west1, got "europe"'],
    ["more minimum than maximum instances", { gcp: { minInstances: 5, maxInstances: 2 } }, "gcp.minInstances must not exceed gcp.maxInstances (2), got 5"],
    ["an Enterprise Plus tier", { gcp: { sqlTier: "db-perf-optimized-N-2" } }, 'gcp.sqlTier must be a Cloud SQL Enterprise tier such as db-f1-micro, db-g1-small or db-custom-1-3840, got "db-perf-optimized-N-2"'],
    ["a CPU count Cloud Run refuses", { gcp: { apiCpu: 3 } }, "gcp.apiCpu must be 1, 2, 4 or 8, got 3"],
    ["a section that is not an object", { sandbox: 8000 }, "sandbox"],
    ["a configuration that is a list", [], "the configuration"],
  ];

  it.each(invalid)("refuses %s, naming the field and the value", (_name, raw, expected) => {
    const problems = problemsOf(raw);
    expect(problems.join("\n")).toContain(expected);
  });

  it("tells a configuration that still sets the removed deep-learning kernel why, in one line per field", () => {
    const problems = problemsOf({ sandbox: { deepLearningKernel: true, tensorflowVersion: "2.13.1" } });
    expect(problems).toEqual([
      "sandbox.deepLearningKernel was removed: no Python 3.8 can be installed in the sandbox image (docs/course.md, TP1 bonus, adds the kernel by hand)",
      "sandbox.tensorflowVersion was removed with sandbox.deepLearningKernel (docs/course.md, TP1 bonus)",
    ]);
  });

  it("does not take a removed setting's name at another level for the removed setting", () => {
    expect(problemsOf({ api: { deepLearningKernel: true } })).toEqual([
      "api.deepLearningKernel is not a known setting (check its spelling against week.config.schema.json)",
    ]);
  });

  it("reports every bad field at once, not only the first", () => {
    const problems = problemsOf({ sandbox: { hostPort: -1, gitUserEmail: "x" }, heroku: { appName: "X" } });
    expect(problems).toHaveLength(3);
  });
});

describe("loading the configuration file", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-config-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("uses the defaults when week.config.json is missing", () => {
    expect(loadWeekConfig({}, dir).sandbox.hostPort).toBe(8000);
  });

  it("uses the defaults when week.config.json is empty", () => {
    fs.writeFileSync(path.join(dir, "week.config.json"), "\n");
    expect(loadWeekConfig({}, dir).api.hostPort).toBe(8080);
  });

  it("reads week.config.json from the project root", () => {
    fs.writeFileSync(path.join(dir, "week.config.json"), JSON.stringify({ api: { hostPort: 9090 } }));
    expect(loadWeekConfig({}, dir).api.hostPort).toBe(9090);
  });

  it("reads the file WEEK_CONFIG names instead", () => {
    fs.writeFileSync(path.join(dir, "class-b.json"), JSON.stringify({ sandbox: { hostPort: 8888 } }));
    expect(loadWeekConfig({ WEEK_CONFIG: "class-b.json" }, dir).sandbox.hostPort).toBe(8888);
  });

  it("fails when WEEK_CONFIG names a missing file", () => {
    expect(() => loadWeekConfig({ WEEK_CONFIG: "nope.json" }, dir)).toThrow('WEEK_CONFIG names a file that does not exist, got "nope.json"');
  });

  it("fails on malformed JSON, naming the file", () => {
    fs.writeFileSync(path.join(dir, "week.config.json"), "{ sandbox: }");
    expect(() => loadWeekConfig({}, dir)).toThrow(/^week\.config\.json is invalid: is not valid JSON: InvalidSymbol at line 1 column 3$/);
  });

  it("names the file in validation errors", () => {
    fs.writeFileSync(path.join(dir, "week.config.json"), JSON.stringify({ sandbox: { hostPort: 0 } }));
    expect(() => loadWeekConfig({}, dir)).toThrow(/^week\.config\.json is invalid: sandbox\.hostPort must be a whole number between 1 and 65535, got 0$/);
  });
});

describe("the JSON Schema for editors", () => {
  it("is the one generated from the zod schema (run npm run schema after changing it)", () => {
    const committed = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "week.config.schema.json"), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(weekConfigJsonSchema())));
  });

  it("the example configuration is valid", () => {
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "week.config.example.json"), "utf8"));
    expect(() => parseWeekConfig(example)).not.toThrow();
  });
});
