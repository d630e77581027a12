/**
 * The configuration's defaults are written once, in the schema (config/schema.ts); a construct's
 * optional prop that mirrors a setting falls back to WEEK_DEFAULTS, never to a literal of its own.
 * Shown two ways: with other defaults in config/defaults, the constructs follow them; and every
 * literal left after a `??` in constructs/, stacks/ and main.ts is a construct's own default,
 * listed here with why it is no setting.
 */
import * as fs from "fs";
import * as path from "path";
import { TerraformStack } from "cdktf";
import type { WeekConfig } from "../config/schema";

/** Other defaults than the schema's: if a construct still wrote its own literal, it would not follow them. */
jest.mock("../config/defaults", () => {
  const { WEEK_DEFAULTS } = jest.requireActual<{ WEEK_DEFAULTS: WeekConfig }>("../config/defaults");
  const changed = structuredClone(WEEK_DEFAULTS) as { -readonly [K in keyof WeekConfig]: { -readonly [F in keyof WeekConfig[K]]: WeekConfig[K][F] } };
  changed.network.name = "lab";
  changed.network.publishOnAllInterfaces = true;
  changed.api = { hostPort: 18080, memoryMiB: 768 };
  changed.database = { ...changed.database, hostPort: 15432, memoryMiB: 640, image: "postgres:16.10-bookworm", protectVolume: false };
  changed.heroku = { ...changed.heroku, region: "us", dynoSize: "standard-1x", dynoQuantity: 2 };
  changed.gcp = { ...changed.gcp, sqlTier: "db-g1-small", maxInstances: 5, deletionProtection: false };
  return { WEEK_DEFAULTS: changed };
});

// Loaded after the mock, so that they see the changed defaults.
import { WEEK_DEFAULTS } from "../config/defaults";
import { ApiService } from "../constructs/local/api-service";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { HerokuContainerApp } from "../constructs/heroku/container-app";
import { CloudSqlPostgres } from "../constructs/gcp/cloud-sql-postgres";
import { CloudRunApp } from "../constructs/gcp/cloud-run-app";
import { resourcesOf, synthJson, testApp } from "./helpers";

const ROOT = path.join(__dirname, "..");
const only = <T>(items: Record<string, T>): T => {
  const values = Object.values(items);
  if (values.length !== 1) throw new Error(`expected one resource, got ${values.length}`);
  return values[0];
};

describe("constructs take their defaults from the schema's, in one place", () => {
  it("follows config/defaults for the local services", () => {
    expect(WEEK_DEFAULTS.api.hostPort).toBe(18080);
    const stack = new TerraformStack(testApp(), "local");
    const network = new PrivateNetwork(stack, "network");
    const database = new PostgresService(stack, "database", { network });
    new ApiService(stack, "api", { network, database });
    const out = synthJson(stack);
    expect(only(resourcesOf(out, "docker_network")).name).toBe("lab");
    const containers = Object.values(resourcesOf(out, "docker_container"));
    const byName = Object.fromEntries(containers.map((c) => [c.name as string, c]));
    expect(byName["lab-api"]).toMatchObject({ ports: [{ external: 18080, ip: "0.0.0.0" }], memory: 768 });
    expect(byName["lab-database"]).toMatchObject({ ports: [{ external: 15432, ip: "0.0.0.0" }], memory: 640 });
    expect(Object.values(resourcesOf(out, "docker_image")).map((i) => i.name)).toContain("postgres:16.10-bookworm");
    expect(only(resourcesOf(out, "docker_volume")).lifecycle).toEqual({ prevent_destroy: false });
  });

  it("follows config/defaults for Heroku and Google Cloud", () => {
    const stack = new TerraformStack(testApp(), "cloud");
    new HerokuContainerApp(stack, "app", { name: "ada-week-api", source: path.join(ROOT, "lambdas-src", "api") });
    new CloudSqlPostgres(stack, "sql", { project: "ada-week-2026", region: "europe-west1" });
    new CloudRunApp(stack, "run", { project: "ada-week-2026", region: "europe-west1", name: "week-api", image: "europe-west1-docker.pkg.dev/p/week/api:1", healthPath: "/health" });
    const out = synthJson(stack);
    expect(only(resourcesOf(out, "heroku_app")).region).toBe("us");
    expect(only(resourcesOf(out, "heroku_formation"))).toMatchObject({ size: "standard-1x", quantity: 2 });
    const sql = only(resourcesOf(out, "google_sql_database_instance"));
    expect(sql).toMatchObject({ deletion_protection: false, settings: { tier: "db-g1-small" } });
    const run = only(resourcesOf(out, "google_cloud_run_v2_service"));
    expect(run).toMatchObject({ deletion_protection: false, template: { scaling: { max_instance_count: 5 } } });
  });
});

/** Each literal default left after `??`, and why it is the construct's own (no setting holds it). */
const CONSTRUCT_OWN_DEFAULTS: Record<string, string> = {
  "constructs/classroom/class-proxy.ts ?? 1": "the proxy's CPU limit when the class gives none",
  'constructs/classroom/student-bundle.ts ?? ""': "no repository to clone when neither the roster nor sandbox.gitRepositoryUrl gives one",
  'constructs/kubernetes/manifests.ts ?? ""': "the parts of a name or path that are absent (an object's namespace, the sandbox's empty ingress sub-path)",
  "constructs/kubernetes/manifests.ts ?? 0": "minutes or volumes absent from a duration or a service",
  "constructs/kubernetes/manifests.ts ?? 1": "a claim's size in GiB when the stack gives none",
  'constructs/kubernetes/student-namespace.ts ?? ""': "an object without a name in a construct id",
  "constructs/local/private-network.ts ?? true": "a network publishes its services' ports unless a classroom bundle says not",
  'constructs/local/sandbox.ts ?? "/"': "Jupyter's base URL at the root, unless a classroom bundle serves it under /<id>/",
  "constructs/local/sandbox.ts ?? true": "the git credentials of the single-student week (a class hands none out)",
  'constructs/shared/context-filter.ts ?? "a file"': "the wording of an error about a file of unknown kind",
  'constructs/shared/context-filter.ts ?? "cannot be read"': "the wording of an error without a system message",
  'constructs/shared/context-filter.ts ?? "unknown error"': "the wording of an error without a message",
  "constructs/shared/context-filter.ts ?? 0": "a missing count in a file's scan",
  'constructs/shared/model-data.ts ?? ""': "an absent CSV field read as empty",
  'constructs/shared/model-data.ts ?? "parse error"': "the wording of a CSV error without a message",
  'constructs/shared/workload-contexts.ts ?? "[]"': "a COPY instruction with no arguments",
  'constructs/shared/context-filter.ts ?? ""': "an empty file name when a path has no parts",
  "constructs/shared/generated-secret.ts ?? 32": "password length of a generated secret",
  "constructs/gcp/cloud-sql-postgres.ts ?? 1": "passwordVersion, bumped by hand to rotate",
  'constructs/gcp/cloud-sql-postgres.ts ?? "week"': "Cloud SQL database and user names (database.user/database are the local env file's)",
  'constructs/gcp/cloud-sql-postgres.ts ?? "week-database-url"': "the Secret Manager secret id",
  'constructs/gcp/project-services.ts ?? "60s"': "wait for enabled APIs to propagate",
  'constructs/gcp/project.ts ?? ""': "no project configured: asked at deploy time",
  "constructs/gcp/cloud-run-app.ts ?? 1": "vCPUs of any Cloud Run app (the API's are gcp.apiCpu, passed by CloudRunApi)",
  "constructs/gcp/cloud-run-app.ts ?? 512": "memory of any Cloud Run app (the API's is gcp.apiMemoryMiB, passed by CloudRunApi)",
  "constructs/gcp/cloud-run-app.ts ?? 8080": "Cloud Run's PORT inside the container",
  "constructs/gcp/cloud-run-app.ts ?? `${props.name}-run`": "service account id from the service name",
  "constructs/gcp/cloud-run-app.ts ?? false": "sessionAffinity, Streamlit's websocket sessions",
  'constructs/gcp/artifact-repository.ts ?? "week"': "the Artifact Registry repository id",
  "constructs/gcp/cloud-run-streamlit.ts ?? 1": "Streamlit's instances when used alone (the stack passes gcp.maxInstances)",
  'constructs/gcp/pushed-image.ts ?? "linux/amd64"': "the platform Cloud Run runs",
  "constructs/heroku/app-name.ts ?? 30": "Heroku's longest app name",
  'constructs/heroku/app-name.ts ?? "heroku_app_name"': "the Terraform variable's name",
  'constructs/heroku/app-name.ts ?? "heroku.appName"': "the setting named in its error messages",
  'constructs/heroku/app-name.ts ?? ""': "no name configured: asked at deploy time",
  "constructs/local/service-container.ts ?? false": "waitUntilHealthy, a container option",
  'constructs/local/postgres-service.ts ?? "database.env"': "the env file Compose and the stack share",
  'constructs/local/sandbox-image.ts ?? ""': "no repository to clone",
  "stacks/heroku-stack.ts ?? `${apiName.value}-ui`": "heroku.streamlitAppName's documented default, derived from the API's name",
};

describe("literal defaults after ??", () => {
  it("are only the constructs' own, never a setting's", () => {
    const files = ["main.ts", ...["constructs", "stacks"].flatMap((dir) => (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).map((f) => path.join(dir, f)))].filter((f) => f.endsWith(".ts"));
    const found = new Set<string>();
    for (const file of files) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      for (const match of text.matchAll(/\?\?\s*(-?\d[\d_.]*|"[^"]*"|'[^']*'|`[^`]*`|true|false)/g)) found.add(`${file.split(path.sep).join("/")} ?? ${match[1]}`);
    }
    expect([...found].sort()).toEqual(Object.keys(CONSTRUCT_OWN_DEFAULTS).sort());
  });
});
