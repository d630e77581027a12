import { TerraformStack, Testing } from "cdktf";
import { CloudRunV2Service } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { SqlDatabaseInstance } from "@cdktf/provider-google/lib/sql-database-instance";
import type { WeekConfigInput } from "../config/schema";
import { ArtifactRepository } from "../constructs/gcp/artifact-repository";
import { CloudRunApp } from "../constructs/gcp/cloud-run-app";
import { CloudSqlPostgres } from "../constructs/gcp/cloud-sql-postgres";
import { GcpProject } from "../constructs/gcp/project";
import { PolicyPack, WEEK_RULES } from "../policies";
import { GcpStack } from "../stacks/gcp-stack";
import { resourcesOf, stableSynth, synthesiseToFiles, testApp, weekConfig, withEnv, type SynthOutput } from "./helpers";

type Json = Record<string, unknown>;

function synthGcp(overrides: WeekConfigInput = {}): { json: string; out: SynthOutput; stack: GcpStack } {
  const stack = new GcpStack(testApp(), "gcp", weekConfig(overrides));
  const json = Testing.synth(stack);
  return { json, out: JSON.parse(json) as SynthOutput, stack };
}

/** The single resource of `type` whose name starts with `prefix` (`api_service`, `database`). */
function resource(out: SynthOutput, type: string, prefix: string): Json {
  const matches = Object.entries(resourcesOf(out, type)).filter(([name]) => name.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${matches.length}`);
  return matches[0][1];
}

function addressOf(out: SynthOutput, type: string, prefix: string): string {
  const name = Object.keys(resourcesOf(out, type)).find((n) => n.startsWith(prefix));
  if (name === undefined) throw new Error(`no ${type} named ${prefix}*`);
  return `${type}.${name}`;
}

const ref = (address: string, attribute: string) => `\${${address}.${attribute}}`;

function containerOf(service: Json): Json {
  return ((service.template as Json).containers as Json[])[0];
}

describe("GcpStack", () => {
  const { json, out, stack } = synthGcp();
  const project = "${var.gcp_project}";
  const api = resource(out, "google_cloud_run_v2_service", "api_service");
  const apiContainer = containerOf(api);
  const wait = addressOf(out, "time_sleep", "services_propagation");

  it("matches the reviewed snapshot", () => {
    expect(stableSynth(stack)).toMatchSnapshot();
  });

  it("matches the reviewed snapshot with the Streamlit app, open to the public, protections off", () => {
    const open = synthGcp({ gcp: { project: "ada-week-2026", streamlit: true, allowPublicAccess: true, deletionProtection: false } });
    expect(stableSynth(open.stack)).toMatchSnapshot();
  });

  it("pins its providers, asks for Terraform 1.11 (write-only arguments) and keeps its state in state/terraform.gcp.tfstate, outside cdktf.out", () => {
    expect(out.terraform?.required_providers).toEqual({
      docker: { source: "kreuzwerker/docker", version: "3.6.2" },
      google: { source: "google", version: "6.50.0" },
      random: { source: "hashicorp/random", version: "3.7.2" },
      time: { source: "hashicorp/time", version: "0.13.1" },
    });
    expect(out.terraform?.required_version).toBe(">= 1.11.0");
    expect(out.terraform?.backend).toEqual({ local: { path: "../../../state/terraform.gcp.tfstate", workspace_dir: "../../../state/gcp.tfstate.d" } });
  });

  describe("project", () => {
    it("synthesises without a project and stops terraform plan with a message naming gcp.project and TF_VAR_gcp_project", () => {
      const variable = out.variable?.gcp_project as { default: string; nullable: boolean; validation: Array<{ condition: string; error_message: string }> };
      expect(variable.default).toBe("");
      expect(variable.nullable).toBe(false);
      expect(variable.validation).toEqual([
        {
          condition: '${can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.gcp_project))}',
          error_message: expect.stringMatching(/^Set gcp\.project in week\.config\.json \(or TF_VAR_gcp_project\) .* got "\$\{var\.gcp_project\}"\.$/),
        },
      ]);
    });

    it("uses the configured project as the variable's default", () => {
      expect(synthGcp({ gcp: { project: "ada-week-2026" } }).out.variable?.gcp_project).toMatchObject({ default: "ada-week-2026" });
    });

    it("configures the Google provider with the project, the region and the project as quota project", () => {
      expect(out.provider?.google).toEqual([
        { project, region: "europe-west1", billing_project: project, user_project_override: true, default_labels: { course: "week" } },
      ]);
      expect((synthGcp({ gcp: { region: "us-central1" } }).out.provider?.google as Json[])[0].region).toBe("us-central1");
    });
  });

  describe("APIs", () => {
    it("enables run, artifactregistry, sqladmin, secretmanager, iam and cloudresourcemanager, and leaves them on at destroy", () => {
      const services = Object.values(resourcesOf(out, "google_project_service"));
      expect(services.map((s) => s.service).sort()).toEqual([
        "artifactregistry.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "iam.googleapis.com",
        "run.googleapis.com",
        "secretmanager.googleapis.com",
        "sqladmin.googleapis.com",
      ]);
      for (const service of services) expect(service).toMatchObject({ project, disable_on_destroy: false, disable_dependent_services: false });
    });

    it("waits 60 s after enabling them, again when the project or the list changes", () => {
      const sleep = resource(out, "time_sleep", "services_propagation");
      expect(sleep.create_duration).toBe("60s");
      expect((sleep.depends_on as string[]).sort()).toEqual(Object.keys(resourcesOf(out, "google_project_service")).map((n) => `google_project_service.${n}`).sort());
      expect(sleep.triggers).toMatchObject({ project });
    });

    it("makes everything that calls the APIs wait for them", () => {
      for (const [type, prefix] of [
        ["google_artifact_registry_repository", "registry"],
        ["google_sql_database_instance", "database"],
        ["google_secret_manager_secret", "database"],
        ["google_service_account", "api_service"],
        ["google_cloud_run_v2_service", "api_service"],
      ]) {
        expect(resource(out, type, prefix).depends_on).toContain(wait);
      }
    });
  });

  describe("image", () => {
    const registryHost = "europe-west1-docker.pkg.dev";
    const repository = addressOf(out, "google_artifact_registry_repository", "registry");
    const pushed = addressOf(out, "docker_registry_image", "api_image");

    it("keeps images in a Docker repository of Artifact Registry in the region", () => {
      expect(resource(out, "google_artifact_registry_repository", "registry")).toMatchObject({ project, location: "europe-west1", repository_id: "week", format: "DOCKER" });
    });

    it("builds the API for linux/amd64 on the local daemon from a staged copy of lambdas-src/api", () => {
      const image = resource(out, "docker_image", "api_image");
      expect(image.provider).toBeUndefined();
      expect(image.build).toMatchObject({ dockerfile: "Dockerfile", platform: "linux/amd64", context: expect.stringMatching(/^assets\/api_image_context_asset_[0-9A-F]{8}\/[0-9A-F]{32}$/) });
      expect(image.name).toMatch(new RegExp(`^${registryHost}/\\$\\{${repository}\\.project\\}/\\$\\{${repository}\\.repository_id\\}/api:[0-9a-f]{12}$`));
    });

    it("pushes with a second Docker provider that logs in with the caller's access token", () => {
      const [local, push] = out.provider?.docker as Json[];
      expect(local).toEqual({});
      const token = ref(`data.google_client_config.${Object.keys(out.data?.google_client_config ?? {})[0]}`, "access_token");
      expect(push).toEqual({ alias: "artifact_registry", registry_auth: [{ address: registryHost, username: "oauth2accesstoken", password: token }] });
      expect(resource(out, "docker_registry_image", "api_image")).toMatchObject({
        provider: "docker.artifact_registry",
        name: ref(addressOf(out, "docker_image", "api_image"), "name"),
        keep_remotely: true,
        triggers: { image_id: ref(addressOf(out, "docker_image", "api_image"), "image_id") },
      });
    });

    it("runs the pushed image by digest, so that a new image rolls a new revision", () => {
      expect(apiContainer.image).toBe(`${registryHost}/${ref(repository, "project")}/${ref(repository, "repository_id")}/api@${ref(pushed, "sha256_digest")}`);
    });
  });

  describe("Cloud SQL", () => {
    const instance = resource(out, "google_sql_database_instance", "database");
    const settings = instance.settings as Json;

    it("runs PostgreSQL 16 on the ENTERPRISE edition, so the small tier is accepted", () => {
      expect(json).toHaveResourceWithProperties(SqlDatabaseInstance, { database_version: "POSTGRES_16", region: "europe-west1", project });
      expect(settings).toMatchObject({ tier: "db-f1-micro", edition: "ENTERPRISE", availability_type: "ZONAL" });
      expect((synthGcp({ gcp: { sqlTier: "db-g1-small" } }).out.resource?.google_sql_database_instance as Record<string, Json>)).toEqual({
        [Object.keys(resourcesOf(out, "google_sql_database_instance"))[0]]: expect.objectContaining({ settings: expect.objectContaining({ tier: "db-g1-small" }) }),
      });
    });

    it("protects the instance from deletion in Terraform and in Cloud SQL, unless the configuration turns both off", () => {
      expect(instance.deletion_protection).toBe(true);
      expect(settings.deletion_protection_enabled).toBe(true);
      const off = resource(synthGcp({ gcp: { deletionProtection: false } }).out, "google_sql_database_instance", "database");
      expect(off.deletion_protection).toBe(false);
      expect((off.settings as Json).deletion_protection_enabled).toBe(false);
    });

    it("keeps daily backups", () => {
      expect(settings.backup_configuration).toMatchObject({ enabled: true, backup_retention_settings: { retained_backups: 7 } });
    });

    it("requires encryption and authorises no network: clients come through the connector", () => {
      expect(settings.ip_configuration).toEqual({ ipv4_enabled: true, ssl_mode: "ENCRYPTED_ONLY" });
    });

    it("names the instance with a random suffix, since Cloud SQL keeps a deleted name for a week", () => {
      expect(instance.name).toBe(ref(addressOf(out, "random_id", "database_name_suffix"), "hex"));
      expect(resource(out, "random_id", "database_name_suffix")).toEqual({ byte_length: 2, prefix: "week-postgres-" });
    });

    it("creates the database and its user, abandoned rather than dropped at destroy", () => {
      expect(resource(out, "google_sql_database", "database")).toMatchObject({ name: "week", instance: ref(addressOf(out, "google_sql_database_instance", "database"), "name"), deletion_policy: "ABANDON" });
      expect(resource(out, "google_sql_user", "database")).toMatchObject({ name: "week", deletion_policy: "ABANDON" });
    });
  });

  describe("secrets", () => {
    const password = addressOf(out, "random_password", "database_password");
    const user = resource(out, "google_sql_user", "database");
    const version = resource(out, "google_secret_manager_secret_version", "database");

    it("generates the password at apply time and writes it to the user through a write-only argument", () => {
      expect(resource(out, "random_password", "database_password")).toMatchObject({ length: 32, special: false, keepers: { version: "1" } });
      expect(user.password_wo).toBe(ref(password, "result"));
      expect(user.password_wo_version).toBe(1);
      expect(user.password).toBeUndefined();
    });

    it("stores DATABASE_URL in the Cloud SQL socket form in Secret Manager, write-only too", () => {
      expect(resource(out, "google_secret_manager_secret", "database")).toMatchObject({ secret_id: "week-database-url", replication: { auto: {} } });
      expect(version.secret).toBe(ref(addressOf(out, "google_secret_manager_secret", "database"), "id"));
      expect(version.secret_data).toBeUndefined();
      expect(version.secret_data_wo_version).toBe(1);
      const instance = addressOf(out, "google_sql_database_instance", "database");
      expect(version.secret_data_wo).toBe(
        `postgresql://${ref(addressOf(out, "google_sql_user", "database"), "name")}:\${urlencode(${password}.result)}@/${ref(addressOf(out, "google_sql_database", "database"), "name")}?host=/cloudsql/${ref(instance, "connection_name")}`,
      );
    });

    it("writes a new secret version when the user or the database is replaced, with bare addresses Terraform accepts", () => {
      expect((version.lifecycle as Json).replace_triggered_by).toEqual([addressOf(out, "google_sql_user", "database"), addressOf(out, "google_sql_database", "database")]);
    });

    it("hands DATABASE_URL to the API by secret reference, never as a plain value", () => {
      const env = apiContainer.env as Json[];
      expect(env).toEqual([
        {
          name: "DATABASE_URL",
          value_source: {
            secret_key_ref: {
              secret: ref(addressOf(out, "google_secret_manager_secret", "database"), "secret_id"),
              version: ref(addressOf(out, "google_secret_manager_secret_version", "database"), "version"),
            },
          },
        },
      ]);
    });

    it("lets the API's account read that one secret, and nothing else of Secret Manager", () => {
      const members = Object.values(resourcesOf(out, "google_secret_manager_secret_iam_member"));
      expect(members).toEqual([
        {
          project,
          secret_id: ref(addressOf(out, "google_secret_manager_secret", "database"), "id"),
          role: "roles/secretmanager.secretAccessor",
          member: ref(addressOf(out, "google_service_account", "api_service"), "member"),
        },
      ]);
      const projectRoles = Object.values(resourcesOf(out, "google_project_iam_member"));
      expect(projectRoles.map((m) => m.role)).toEqual(["roles/cloudsql.client"]);
      expect(projectRoles[0].member).toBe(ref(addressOf(out, "google_service_account", "api_service"), "member"));
    });

    it("keeps every secret input out of the synthesised configuration and its assets", () => {
      const canaries: Record<string, string> = {
        GOOGLE_OAUTH_ACCESS_TOKEN: "canary-google-token-8c21",
        GOOGLE_CREDENTIALS: '{"private_key":"canary-google-key-8c21"}',
        GOOGLE_APPLICATION_CREDENTIALS: "/tmp/canary-adc-8c21.json",
        CLOUDSDK_AUTH_ACCESS_TOKEN: "canary-gcloud-token-8c21",
        DOCKER_REGISTRY_PASS: "canary-registry-pass-8c21",
        TF_VAR_gcp_project: "canary-project-8c21",
        DATABASE_URL: "postgresql://week:canary-db-password-8c21@/week?host=/cloudsql/p:r:i",
      };
      const synthesised = withEnv(canaries, () =>
        synthesiseToFiles((app) => new GcpStack(app, "gcp", weekConfig({ gcp: { streamlit: true, allowPublicAccess: true } }))),
      );
      expect(synthesised).toContain('"google_cloud_run_v2_service"');
      expect(synthesised).toContain("uvicorn"); // the staged API sources: assets are searched too
      for (const value of ["canary-google-token-8c21", "canary-google-key-8c21", "canary-adc-8c21", "canary-gcloud-token-8c21", "canary-registry-pass-8c21", "canary-project-8c21", "canary-db-password-8c21"]) {
        expect(synthesised).not.toContain(value);
      }
    });
  });

  describe("Cloud Run API", () => {
    const account = addressOf(out, "google_service_account", "api_service");

    it("runs as its own service account", () => {
      expect(resource(out, "google_service_account", "api_service")).toMatchObject({ project, account_id: "week-api-run" });
      expect((api.template as Json).service_account).toBe(ref(account, "email"));
    });

    it("takes memory, vCPUs and instance counts from the configuration", () => {
      expect(apiContainer.resources).toEqual({ limits: { cpu: "1", memory: "1024Mi" }, cpu_idle: true, startup_cpu_boost: true });
      expect((api.template as Json).scaling).toEqual({ min_instance_count: 0, max_instance_count: 2 });
      const big = resource(synthGcp({ gcp: { apiMemoryMiB: 4096, apiCpu: 2, minInstances: 1, maxInstances: 5 } }).out, "google_cloud_run_v2_service", "api_service");
      expect((containerOf(big).resources as Json).limits).toEqual({ cpu: "2", memory: "4096Mi" });
      expect((big.template as Json).scaling).toEqual({ min_instance_count: 1, max_instance_count: 5 });
    });

    it("sets deletion protection explicitly from the configuration", () => {
      expect(json).toHaveResourceWithProperties(CloudRunV2Service, { name: "week-api", deletion_protection: true, ingress: "INGRESS_TRAFFIC_ALL" });
      expect(resource(synthGcp({ gcp: { deletionProtection: false } }).out, "google_cloud_run_v2_service", "api_service").deletion_protection).toBe(false);
    });

    it("mounts the Cloud SQL socket at /cloudsql", () => {
      expect((api.template as Json).volumes).toEqual([
        { name: "cloudsql", cloud_sql_instance: { instances: [ref(addressOf(out, "google_sql_database_instance", "database"), "connection_name")] } },
      ]);
      expect(apiContainer.volume_mounts).toEqual([{ name: "cloudsql", mount_path: "/cloudsql" }]);
    });

    it("probes /health at startup and while it runs, on the port Cloud Run gives as PORT", () => {
      expect(apiContainer.ports).toEqual({ container_port: 8080 });
      expect(apiContainer.startup_probe).toMatchObject({ http_get: { path: "/health" } });
      expect(apiContainer.liveness_probe).toMatchObject({ http_get: { path: "/health" } });
    });

    it("creates the revision after its grants and their propagation wait", () => {
      const grantsWait = addressOf(out, "time_sleep", "api_service_grants_propagation");
      expect(api.depends_on).toEqual([
        wait,
        addressOf(out, "google_project_iam_member", "api_service"),
        addressOf(out, "google_secret_manager_secret_iam_member", "api_service"),
        grantsWait,
      ]);
      expect(resource(out, "time_sleep", "api_service_grants_propagation")).toMatchObject({ create_duration: "30s" });
    });

    it("is private by default: no one is granted run.invoker", () => {
      expect(resourcesOf(out, "google_cloud_run_v2_service_iam_member")).toEqual({});
    });

    it("lets allUsers invoke it only when gcp.allowPublicAccess is true", () => {
      const open = synthGcp({ gcp: { allowPublicAccess: true } }).out;
      expect(resource(open, "google_cloud_run_v2_service_iam_member", "api_service_public_invoker")).toEqual({
        project,
        location: "europe-west1",
        name: ref(addressOf(open, "google_cloud_run_v2_service", "api_service"), "name"),
        role: "roles/run.invoker",
        member: "allUsers",
      });
    });

    it("outputs the service URLs and the instance connection name", () => {
      expect(out.output?.api_url.value).toBe(ref(addressOf(out, "google_cloud_run_v2_service", "api_service"), "uri"));
      expect(out.output?.api_docs_url.value).toBe(`${ref(addressOf(out, "google_cloud_run_v2_service", "api_service"), "uri")}/docs`);
      expect(out.output?.sql_connection_name.value).toBe(ref(addressOf(out, "google_sql_database_instance", "database"), "connection_name"));
      expect(out.output?.streamlit_url).toBeUndefined();
      expect(Object.values(out.output ?? {}).some((o) => o.sensitive === true)).toBe(false);
    });
  });

  describe("with the Streamlit app", () => {
    const { out: both } = synthGcp({ gcp: { streamlit: true } });
    const ui = resource(both, "google_cloud_run_v2_service", "streamlit_service");

    it("runs it on Cloud Run with API_URL set to the API's URL, session affinity and its own account", () => {
      const container = containerOf(ui);
      const apiUrl = ref(addressOf(both, "google_cloud_run_v2_service", "api_service"), "uri");
      expect(container.env).toEqual([
        { name: "API_URL", value: apiUrl },
        { name: "API_ID_TOKEN_AUDIENCE", value: apiUrl },
      ]);
      expect(container.image).toMatch(/\/streamlit@\$\{docker_registry_image\.streamlit_image_pushed_[0-9A-F]{8}\.sha256_digest\}$/);
      expect(container.startup_probe).toMatchObject({ http_get: { path: "/_stcore/health" } });
      expect((ui.template as Json).session_affinity).toBe(true);
      expect((ui.template as Json).service_account).toBe(ref(addressOf(both, "google_service_account", "streamlit_service"), "email"));
      expect((ui.template as Json).volumes).toBeUndefined();
      expect(both.output?.streamlit_url.value).toBe(ref(addressOf(both, "google_cloud_run_v2_service", "streamlit_service"), "uri"));
    });

    it("lets its account, and no one else, invoke the private API", () => {
      expect(Object.values(resourcesOf(both, "google_cloud_run_v2_service_iam_member"))).toEqual([
        expect.objectContaining({ name: ref(addressOf(both, "google_cloud_run_v2_service", "api_service"), "name"), member: ref(addressOf(both, "google_service_account", "streamlit_service"), "member"), role: "roles/run.invoker" }),
      ]);
    });

    it("opens both services, and drops the API grant, when gcp.allowPublicAccess is true", () => {
      const open = synthGcp({ gcp: { streamlit: true, allowPublicAccess: true } }).out;
      expect(Object.values(resourcesOf(open, "google_cloud_run_v2_service_iam_member")).map((m) => m.member)).toEqual(["allUsers", "allUsers"]);
      const ui = resource(open, "google_cloud_run_v2_service", "streamlit_service");
      const env = ((ui.template as Json).containers as Json[])[0].env as Json[];
      expect(env.map((e) => e.name)).toEqual(["API_URL"]);
    });
  });

  describe("policies", () => {
    function report(overrides: WeekConfigInput) {
      const gcp = new GcpStack(testApp(), "gcp", weekConfig(overrides));
      const pack = PolicyPack.applyTo(gcp, WEEK_RULES);
      Testing.synth(gcp);
      return pack.report;
    }

    it("passes the week's policy pack", () => {
      expect(report({ gcp: { streamlit: true } })).toMatchObject({ findings: 0, suppressions: 0 });
    });

    it("records why public access and teardown waive their rules", () => {
      expect(report({ gcp: { streamlit: true, allowPublicAccess: true, deletionProtection: false } })).toMatchObject({ findings: 0, suppressions: 3 });
    });
  });
});

describe("Google Cloud constructs", () => {
  function scope(): TerraformStack {
    return new TerraformStack(testApp(), "test");
  }
  const base = { project: "p", region: "europe-west1", name: "week-api", image: "x@sha256:0", healthPath: "/health" };

  it("refuses memory and vCPUs Cloud Run does not pair, naming the field and the value", () => {
    expect(() => new CloudRunApp(scope(), "run", { ...base, memoryMiB: 8192, cpu: 1 })).toThrow("test/run: memoryMiB needs at least 2 vCPUs on Cloud Run for 8192 MiB, got 1");
    expect(() => new CloudRunApp(scope(), "run", { ...base, memoryMiB: 1024, cpu: 4 })).toThrow("test/run: memoryMiB needs at least 2048 MiB on Cloud Run for 4 vCPUs, got 1024 MiB");
    expect(() => new CloudRunApp(scope(), "run", { ...base, cpu: 3 })).toThrow("test/run: cpu must be 1, 2, 4 or 8, got 3");
  });

  it("refuses more minimum than maximum instances", () => {
    expect(() => new CloudRunApp(scope(), "run", { ...base, minInstances: 3, maxInstances: 2 })).toThrow("test/run: minInstances must not exceed maxInstances (2), got 3");
  });

  it("refuses to set PORT, which Cloud Run sets", () => {
    expect(() => new CloudRunApp(scope(), "run", { ...base, env: { PORT: "8000" } })).toThrow('test/run: env must not set variables Cloud Run reserves (PORT, K_*), got "PORT"');
  });

  it("refuses a service name Cloud Run refuses", () => {
    expect(() => new CloudRunApp(scope(), "run", { ...base, name: "Week_API" })).toThrow('test/run: name must be up to 49 lowercase letters, digits and dashes, starting with a letter, got "Week_API"');
  });

  it("refuses a configured project id that is not one", () => {
    expect(() => new GcpProject(scope(), "project", { configured: "My Project" })).toThrow(
      'test/project: gcp.project must be a Google Cloud project id (6 to 30 lowercase letters, digits or dashes, starting with a letter), got "My Project"',
    );
  });

  it("refuses a zone where a region is expected, and a tier the ENTERPRISE edition does not have", () => {
    expect(() => new ArtifactRepository(scope(), "registry", { project: "p", region: "europe-west1-b" })).toThrow(
      'test/registry: region must be a Google Cloud region such as europe-west1, got "europe-west1-b"',
    );
    expect(() => new CloudSqlPostgres(scope(), "db", { project: "p", region: "europe-west1", tier: "db-perf-optimized-N-2" })).toThrow(
      'test/db: tier must be a Cloud SQL Enterprise tier such as db-f1-micro, got "db-perf-optimized-N-2"',
    );
  });

  it("rotates the database password by version: a new password, user update and secret version together", () => {
    const stack = scope();
    new CloudSqlPostgres(stack, "db", { project: "p", region: "europe-west1", passwordVersion: 2 });
    const rotated = JSON.parse(Testing.synth(stack)) as SynthOutput;
    expect(resource(rotated, "random_password", "db_password").keepers).toEqual({ version: "2" });
    expect(resource(rotated, "google_sql_user", "db_user").password_wo_version).toBe(2);
    expect(resource(rotated, "google_secret_manager_secret_version", "db_database_url_version").secret_data_wo_version).toBe(2);
  });
});
