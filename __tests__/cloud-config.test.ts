import { parseWeekConfig } from "../config/load";
import { problemsOf } from "./helpers";

describe("the heroku and gcp sections of the configuration", () => {
  it("need nothing to synthesise: names and project are asked for at deploy time", () => {
    const config = parseWeekConfig({});
    expect(config.heroku.appName).toBeUndefined();
    expect(config.gcp.project).toBeUndefined();
    expect(config.heroku).toMatchObject({ region: "eu", postgresPlan: "heroku-postgresql:essential-0", dynoSize: "basic", dynoQuantity: 1, streamlit: false });
    expect(config.gcp).toMatchObject({
      region: "europe-west1",
      apiMemoryMiB: 1024,
      apiCpu: 1,
      minInstances: 0,
      maxInstances: 2,
      allowPublicAccess: false,
      streamlit: false,
      sqlTier: "db-f1-micro",
      deletionProtection: true,
    });
  });

  it("keeps false and 0 as given", () => {
    const config = parseWeekConfig({ heroku: { dynoQuantity: 0 }, gcp: { deletionProtection: false, minInstances: 0 } });
    expect(config.heroku.dynoQuantity).toBe(0);
    expect(config.gcp.deletionProtection).toBe(false);
  });

  it("accepts the largest Cloud Run shapes that fit together", () => {
    expect(() => parseWeekConfig({ gcp: { apiCpu: 2, apiMemoryMiB: 8192 } })).not.toThrow();
    expect(() => parseWeekConfig({ gcp: { apiCpu: 4, apiMemoryMiB: 2048 } })).not.toThrow();
    expect(() => parseWeekConfig({ gcp: { apiCpu: 8, apiMemoryMiB: 32768 } })).not.toThrow();
  });

  // Each case: the configuration, then the whole line the loader must report.
  const invalid: Array<[string, unknown, string]> = [
    ["a Heroku app name with upper case", { heroku: { appName: "Week-API" } }, 'heroku.appName must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "Week-API"'],
    ["a Heroku app name starting with a digit", { heroku: { appName: "1week" } }, 'heroku.appName must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "1week"'],
    ["a Heroku app name of two characters", { heroku: { appName: "ab" } }, 'heroku.appName must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "ab"'],
    ["an API name too long to derive the Streamlit app's", { heroku: { appName: "a".repeat(28), streamlit: true } }, `heroku.appName is too long to name the Streamlit app after it (27 characters at most); set heroku.streamlitAppName, got "${"a".repeat(28)}"`],
    ["the same name for both Heroku apps", { heroku: { appName: "week-api", streamlitAppName: "week-api" } }, 'heroku.streamlitAppName must differ from heroku.appName, got "week-api"'],
    ["a bad Streamlit app name", { heroku: { streamlitAppName: "Week UI" } }, 'heroku.streamlitAppName must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "Week UI"'],
    ["a Heroku region outside the Common Runtime", { heroku: { region: "tokyo" } }, 'heroku.region must be us or eu (the Common Runtime regions), got "tokyo"'],
    ["the gone hobby-dev plan", { heroku: { postgresPlan: "heroku-postgresql:hobby-dev" } }, 'heroku.postgresPlan must be a current Heroku Postgres plan such as heroku-postgresql:essential-0 (the free hobby plans are gone), got "heroku-postgresql:hobby-dev"'],
    ["a plan of another add-on", { heroku: { postgresPlan: "heroku-redis:mini" } }, 'heroku.postgresPlan must be a current Heroku Postgres plan such as heroku-postgresql:essential-0 (the free hobby plans are gone), got "heroku-redis:mini"'],
    ["the gone free dyno", { heroku: { dynoSize: "free" } }, 'heroku.dynoSize must be one of eco, basic, standard-1x, standard-2x, performance-m, performance-l, got "free"'],
    ["a dyno size in old capitals", { heroku: { dynoSize: "Standard-1X" } }, 'heroku.dynoSize must be one of eco, basic, standard-1x, standard-2x, performance-m, performance-l, got "Standard-1X"'],
    ["eleven dynos", { heroku: { dynoQuantity: 11 } }, "heroku.dynoQuantity must be a whole number between 0 and 10, got 11"],
    ["half a dyno", { heroku: { dynoQuantity: 0.5 } }, "heroku.dynoQuantity must be a whole number between 0 and 10, got 0.5"],
    ["a project id with capitals", { gcp: { project: "My-Project" } }, 'gcp.project must be a Google Cloud project id: 6 to 30 lowercase letters, digits or dashes, starting with a letter, got "My-Project"'],
    ["a project id too short", { gcp: { project: "week" } }, 'gcp.project must be a Google Cloud project id: 6 to 30 lowercase letters, digits or dashes, starting with a letter, got "week"'],
    ["a zone instead of a region", { gcp: { region: "europe-west1-b" } }, 'gcp.region must be a Google Cloud region such as europe-west1, got "europe-west1-b"'],
    ["a region in capitals", { gcp: { region: "EU-WEST1" } }, 'gcp.region must be a Google Cloud region such as europe-west1, got "EU-WEST1"'],
    ["more minimum than maximum instances", { gcp: { minInstances: 3, maxInstances: 1 } }, "gcp.minInstances must not exceed gcp.maxInstances (1), got 3"],
    ["no instance at all", { gcp: { maxInstances: 0 } }, "gcp.maxInstances must be a whole number between 1 and 100, got 0"],
    ["less memory than Cloud Run's second generation allows", { gcp: { apiMemoryMiB: 256 } }, "gcp.apiMemoryMiB must be a whole number of MiB between 512 and 32768, got 256"],
    ["8 GiB on one vCPU", { gcp: { apiMemoryMiB: 8192 } }, "gcp.apiMemoryMiB needs gcp.apiCpu of at least 2 on Cloud Run (gcp.apiCpu is 1), got 8192"],
    ["32 GiB on four vCPUs", { gcp: { apiMemoryMiB: 32768, apiCpu: 4 } }, "gcp.apiMemoryMiB needs gcp.apiCpu of at least 8 on Cloud Run (gcp.apiCpu is 4), got 32768"],
    ["four vCPUs with 1 GiB", { gcp: { apiCpu: 4 } }, "gcp.apiCpu needs gcp.apiMemoryMiB of at least 2048 on Cloud Run (gcp.apiMemoryMiB is 1024), got 4"],
    ["a CPU count Cloud Run refuses", { gcp: { apiCpu: 6 } }, "gcp.apiCpu must be 1, 2, 4 or 8, got 6"],
    ["an Enterprise Plus tier", { gcp: { sqlTier: "db-perf-optimized-N-2" } }, 'gcp.sqlTier must be a Cloud SQL Enterprise tier such as db-f1-micro, db-g1-small or db-custom-1-3840, got "db-perf-optimized-N-2"'],
    ["public access given as text", { gcp: { allowPublicAccess: "yes" } }, 'gcp.allowPublicAccess must be true or false, got "yes"'],
    ["deletion protection given as a number", { gcp: { deletionProtection: 0 } }, "gcp.deletionProtection must be true or false, got 0"],
    ["a misspelt gcp setting", { gcp: { projectId: "week-2026" } }, "gcp.projectId is not a known setting (check its spelling against week.config.schema.json)"],
    ["a misspelt heroku setting", { heroku: { app: "week-api" } }, "heroku.app is not a known setting (check its spelling against week.config.schema.json)"],
  ];

  it.each(invalid)("fails for %s, naming the field and the value", (_name, raw, line) => {
    expect(problemsOf(raw)).toContain(line);
  });

  it("reports every bad field at once", () => {
    expect(problemsOf({ heroku: { region: "asia", dynoSize: "free" }, gcp: { apiCpu: 3, region: "x" } })).toHaveLength(4);
  });

  it("starts its report with the file it read", () => {
    expect(() => parseWeekConfig({ gcp: { apiMemoryMiB: 8192 } }, "week.config.json")).toThrow(/^week\.config\.json is invalid: gcp\.apiMemoryMiB needs/);
  });
});
