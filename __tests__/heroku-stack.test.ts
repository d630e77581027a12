import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import type { WeekConfigInput } from "../config/schema";
import { HerokuAppName } from "../constructs/heroku/app-name";
import { HerokuContainerApp } from "../constructs/heroku/container-app";
import { WORKLOADS } from "../constructs/paths";
import { Addon } from "../imports/providers/heroku/addon";
import { App } from "../imports/providers/heroku/app";
import { Formation } from "../imports/providers/heroku/formation";
import { HerokuStack } from "../stacks/heroku-stack";
import { resourcesOf, stableSynth, synthesiseToFiles, testApp, weekConfig, withEnv, type SynthOutput } from "./helpers";

function synthHeroku(overrides: WeekConfigInput = {}): { json: string; out: SynthOutput; stack: HerokuStack } {
  const stack = new HerokuStack(testApp(), "heroku", weekConfig(overrides));
  const json = Testing.synth(stack);
  return { json, out: JSON.parse(json) as SynthOutput, stack };
}

/** The single resource of `type` whose construct path holds `part` (`api_app`, `streamlit_app`). */
function resource(out: SynthOutput, type: string, part: string): Record<string, unknown> {
  const matches = Object.entries(resourcesOf(out, type)).filter(([name]) => name.startsWith(part));
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${part}*, found ${matches.length}`);
  return matches[0][1];
}

function addressOf(out: SynthOutput, type: string, part: string): string {
  const name = Object.keys(resourcesOf(out, type)).find((n) => n.startsWith(part));
  if (name === undefined) throw new Error(`no ${type} named ${part}*`);
  return `${type}.${name}`;
}

describe("HerokuStack", () => {
  const { json, out, stack } = synthHeroku();

  it("matches the reviewed snapshot", () => {
    expect(stableSynth(stack)).toMatchSnapshot();
  });

  it("matches the reviewed snapshot with the Streamlit app", () => {
    expect(stableSynth(synthHeroku({ heroku: { appName: "ada-week-api", streamlit: true } }).stack)).toMatchSnapshot();
  });

  it("pins heroku/heroku 5.3.2 and keeps its state in state/terraform.heroku.tfstate, outside cdktf.out", () => {
    expect(out.terraform?.required_providers).toEqual({ heroku: { source: "heroku/heroku", version: "5.3.2" } });
    expect(out.terraform?.backend).toEqual({ local: { path: "../../../state/terraform.heroku.tfstate", workspace_dir: "../../../state/heroku.tfstate.d" } });
  });

  it("makes the API a container-stack app in the configured region, named at deploy time", () => {
    expect(json).toHaveResourceWithProperties(App, { name: "${var.heroku_app_name}", region: "eu", stack: "container" });
    expect(resource(out, "heroku_app", "api_app").buildpacks).toBeUndefined();
    expect(synthHeroku({ heroku: { region: "us" } }).json).toHaveResourceWithProperties(App, { region: "us" });
  });

  it("synthesises without any Heroku configuration and asks for the app name at plan time", () => {
    const variable = out.variable?.heroku_app_name as { default: string; nullable: boolean; validation: Array<{ condition: string; error_message: string }> };
    expect(variable.default).toBe("");
    expect(variable.nullable).toBe(false);
    expect(variable.validation).toEqual([
      {
        condition: '${can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.heroku_app_name))}',
        error_message: expect.stringContaining("Set heroku.appName in week.config.json (or TF_VAR_heroku_app_name)"),
      },
    ]);
    expect(variable.validation[0].error_message).toContain('got "${var.heroku_app_name}".');
  });

  it("uses the configured app name as the variable's default", () => {
    const { out: named } = synthHeroku({ heroku: { appName: "ada-week-api" } });
    expect(named.variable?.heroku_app_name).toMatchObject({ default: "ada-week-api" });
  });

  it("keeps room for the -ui suffix when the Streamlit app's name is derived", () => {
    const derived = synthHeroku({ heroku: { streamlit: true } }).out.variable?.heroku_app_name as { validation: Array<{ condition: string; error_message: string }> };
    expect(derived.validation[0].condition).toContain("{1,25}");
    expect(derived.validation[0].error_message).toContain("3 to 27 characters");
    const named = synthHeroku({ heroku: { streamlit: true, streamlitAppName: "ada-week-ui" } }).out.variable?.heroku_app_name as { validation: Array<{ condition: string }> };
    expect(named.validation[0].condition).toContain("{1,28}");
  });

  it("refers to the app by id from every child resource", () => {
    const appId = `\${${addressOf(out, "heroku_app", "api_app")}.id}`;
    expect(resource(out, "heroku_addon", "api_app").app_id).toBe(appId);
    expect(resource(out, "heroku_build", "api_app").app_id).toBe(appId);
    expect(resource(out, "heroku_formation", "api_app").app_id).toBe(appId);
  });

  it("adds a Heroku Postgres add-on with the configured plan", () => {
    expect(json).toHaveResourceWithProperties(Addon, { plan: "heroku-postgresql:essential-0" });
    expect(synthHeroku({ heroku: { postgresPlan: "heroku-postgresql:essential-1" } }).json).toHaveResourceWithProperties(Addon, {
      plan: "heroku-postgresql:essential-1",
    });
    expect(Object.keys(resourcesOf(synthHeroku({ heroku: { streamlit: true } }).out, "heroku_addon"))).toHaveLength(1);
  });

  it("builds from a staged copy of lambdas-src/api, a directory the provider tars itself", () => {
    const build = resource(out, "heroku_build", "api_app");
    expect(build.buildpacks).toBeUndefined();
    const source = build.source as Record<string, unknown>;
    expect(Object.keys(source)).toEqual(["path"]);
    expect(source.path).toMatch(/^assets\/api_app_context_asset_[0-9A-F]{8}\/[0-9A-F]{32}$/);
    const staged = stack.node.findAll().find((c): c is HerokuContainerApp => c instanceof HerokuContainerApp)!.context.stagedAt;
    expect(fs.existsSync(path.join(staged, "heroku.yml"))).toBe(true);
    expect(fs.existsSync(path.join(staged, "Dockerfile"))).toBe(true);
    expect(fs.readdirSync(staged)).not.toContain("__pycache__");
  });

  it("orders add-on, build and formation: the first release has DATABASE_URL, and scaling waits for it", () => {
    expect(resource(out, "heroku_build", "api_app").depends_on).toEqual([addressOf(out, "heroku_addon", "api_app")]);
    expect(resource(out, "heroku_formation", "api_app").depends_on).toEqual([addressOf(out, "heroku_build", "api_app")]);
  });

  it("runs one basic web dyno by default, and what the configuration asks for", () => {
    expect(json).toHaveResourceWithProperties(Formation, { type: "web", size: "basic", quantity: 1 });
    const scaled = synthHeroku({ heroku: { dynoSize: "standard-1x", dynoQuantity: 2 } }).json;
    expect(scaled).toHaveResourceWithProperties(Formation, { type: "web", size: "standard-1x", quantity: 2 });
    expect(synthHeroku({ heroku: { dynoQuantity: 0 } }).json).toHaveResourceWithProperties(Formation, { quantity: 0 });
  });

  it("gives the API its secrets only as sensitive config vars, from a sensitive variable", () => {
    const app = resource(out, "heroku_app", "api_app");
    expect(app.sensitive_config_vars).toBe("${var.heroku_api_secrets}");
    expect(app.config_vars).toBeUndefined();
    expect(out.variable?.heroku_api_secrets).toMatchObject({ type: "map(string)", sensitive: true, default: {} });
  });

  it("leaves the API key to HEROKU_API_KEY: no provider argument, no variable", () => {
    expect(out.provider?.heroku).toEqual([{}]);
    expect(Object.keys(out.variable ?? {}).sort()).toEqual(["heroku_api_secrets", "heroku_app_name"]);
  });

  it("outputs the API's URLs, and the Streamlit app's only when it is deployed", () => {
    expect(out.output?.api_url.value).toBe(`\${trimsuffix(${addressOf(out, "heroku_app", "api_app")}.web_url, "/")}`);
    expect(out.output?.api_docs_url.value).toBe(`\${trimsuffix(${addressOf(out, "heroku_app", "api_app")}.web_url, "/")}/docs`);
    expect(out.output?.streamlit_url).toBeUndefined();
    expect(Object.keys(resourcesOf(out, "heroku_app"))).toHaveLength(1);
  });

  describe("with the Streamlit app", () => {
    const { out: both } = synthHeroku({ heroku: { streamlit: true } });

    it("deploys a second container app named after the API, pointed at the API's web URL", () => {
      const ui = resource(both, "heroku_app", "streamlit_app");
      expect(ui).toMatchObject({ name: "${var.heroku_app_name}-ui", stack: "container", region: "eu" });
      expect(ui.config_vars).toEqual({ API_URL: `\${trimsuffix(${addressOf(both, "heroku_app", "api_app")}.web_url, "/")}` });
      expect(ui.sensitive_config_vars).toBeUndefined();
      expect(both.output?.streamlit_url.value).toBe(`\${trimsuffix(${addressOf(both, "heroku_app", "streamlit_app")}.web_url, "/")}`);
    });

    it("builds it from lambdas-src/streamlit and scales it after the build", () => {
      const build = resource(both, "heroku_build", "streamlit_app");
      expect((build.source as { path: string }).path).toMatch(/^assets\/streamlit_app_context_asset_/);
      expect(build.depends_on).toBeUndefined();
      expect(resource(both, "heroku_formation", "streamlit_app")).toMatchObject({
        type: "web",
        quantity: 1,
        depends_on: [addressOf(both, "heroku_build", "streamlit_app")],
      });
    });

    it("uses heroku.streamlitAppName when it is set", () => {
      const named = synthHeroku({ heroku: { streamlit: true, streamlitAppName: "ada-week-ui" } }).out;
      expect(resource(named, "heroku_app", "streamlit_app").name).toBe("ada-week-ui");
    });
  });

  it("keeps every secret input out of the synthesised configuration", () => {
    const canaries = {
      HEROKU_API_KEY: "canary-heroku-api-key-51f0",
      HEROKU_EMAIL: "canary-heroku-email-51f0",
      TF_VAR_heroku_api_secrets: '{"SENTRY_DSN":"canary-heroku-secret-51f0"}',
      TF_VAR_heroku_app_name: "canary-heroku-name-51f0",
      DATABASE_URL: "postgres://week:canary-db-password-51f0@db.example/week",
    };
    const synthesised = withEnv(canaries, () => synthesiseToFiles((app) => new HerokuStack(app, "heroku", weekConfig({ heroku: { streamlit: true } }))));
    expect(synthesised).toContain('"heroku_app"');
    expect(synthesised).toContain("web: Dockerfile"); // the staged heroku.yml: assets are searched too
    for (const value of ["canary-heroku-api-key-51f0", "canary-heroku-email-51f0", "canary-heroku-secret-51f0", "canary-heroku-name-51f0", "canary-db-password-51f0"]) {
      expect(synthesised).not.toContain(value);
    }
  });
});

describe("Heroku constructs", () => {
  function scope(): TerraformStack {
    return new TerraformStack(testApp(), "test");
  }

  const folders: string[] = [];
  afterAll(() => {
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
  });

  function folderWith(files: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-heroku-source-"));
    folders.push(dir);
    for (const file of files) fs.writeFileSync(path.join(dir, file), "# test\n");
    return dir;
  }

  it("refuses an app name Heroku would refuse, naming the field and the value", () => {
    expect(() => new HerokuContainerApp(scope(), "app", { name: "Week_API", source: path.join(WORKLOADS, "api") })).toThrow(
      'test/app: name must be 3 to 30 characters of lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "Week_API"',
    );
    expect(() => new HerokuAppName(scope(), "name", { configured: "a".repeat(28), maxLength: 27 })).toThrow(
      `test/name: heroku.appName must be 3 to 27 characters of lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got "${"a".repeat(28)}"`,
    );
  });

  it("refuses a source without heroku.yml: a container build needs it", () => {
    const source = folderWith(["Dockerfile"]);
    expect(() => new HerokuContainerApp(scope(), "app", { name: "week-api", source })).toThrow(
      `test/app: source must hold a Dockerfile and a heroku.yml, got ${JSON.stringify(source)} without heroku.yml`,
    );
  });

  it("refuses dyno sizes, quantities, regions and plans Heroku does not offer", () => {
    const source = path.join(WORKLOADS, "api");
    expect(() => new HerokuContainerApp(scope(), "app", { name: "week-api", source, dynoSize: "hobby" })).toThrow(
      'test/app: dynoSize must be one of eco, basic, standard-1x, standard-2x, performance-m, performance-l, got "hobby"',
    );
    expect(() => new HerokuContainerApp(scope(), "app", { name: "week-api", source, dynoQuantity: -1 })).toThrow(
      "test/app: dynoQuantity must be a whole number between 0 and 10, got -1",
    );
    expect(() => new HerokuContainerApp(scope(), "app", { name: "week-api", source, region: "virginia" })).toThrow(
      'test/app: region must be eu or us (the Common Runtime regions), got "virginia"',
    );
    expect(() => new HerokuContainerApp(scope(), "app", { name: "week-api", source, postgresPlan: "hobby-dev" })).toThrow(
      'test/app: postgresPlan must be a Heroku Postgres plan such as heroku-postgresql:essential-0, got "hobby-dev"',
    );
  });

  it("accepts a name given as a Terraform expression, checked at plan time instead", () => {
    const stack = scope();
    const name = new HerokuAppName(stack, "name", {});
    expect(() => new HerokuContainerApp(stack, "app", { name: name.value, source: path.join(WORKLOADS, "api") })).not.toThrow();
  });
});
