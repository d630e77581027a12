import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing, TerraformOutput, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Construct } from "constructs";
import { Container, type ContainerConfig } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CloudRunV2Service, type CloudRunV2ServiceConfig } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { SqlDatabaseInstance, type SqlDatabaseInstanceConfig, type SqlDatabaseInstanceSettings } from "@cdktf/provider-google/lib/sql-database-instance";
import { App as HerokuApp } from "../imports/providers/heroku/app";
import { BuildContext } from "../constructs/shared/build-context";
import { PolicyPack, WEEK_RULES, suppress } from "../policies";
import type { PolicyRule } from "../policies";
import { testApp } from "./helpers";

function rule(id: string): PolicyRule {
  const found = WEEK_RULES.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no rule ${id}`);
  return found;
}

/** Builds a stack with `make`, applies one rule, synthesises, and returns the report. */
function check(id: string, make: (scope: Construct) => void) {
  const stack = new TerraformStack(testApp(), "policy");
  make(stack);
  const pack = PolicyPack.applyTo(stack, [rule(id)]);
  Testing.synth(stack);
  return pack.report;
}

const goodContainer: ContainerConfig = {
  name: "svc",
  image: "busybox:1.37",
  memory: 128,
  restart: "unless-stopped",
  healthcheck: { test: ["CMD", "true"] },
  ports: [{ internal: 80, external: 8081, ip: "127.0.0.1" }],
};

const goodSettings: SqlDatabaseInstanceSettings = {
  tier: "db-f1-micro",
  edition: "ENTERPRISE",
  deletionProtectionEnabled: true,
  backupConfiguration: { enabled: true },
  ipConfiguration: { sslMode: "ENCRYPTED_ONLY" },
};
const goodSql: SqlDatabaseInstanceConfig = { databaseVersion: "POSTGRES_16", region: "europe-west1", deletionProtection: true, settings: goodSettings };

const goodRun: CloudRunV2ServiceConfig = {
  name: "api",
  location: "europe-west1",
  template: { serviceAccount: "week-api@p.iam.gserviceaccount.com", containers: [{ image: "europe-west1-docker.pkg.dev/p/week/api@sha256:" + "a".repeat(64) }] },
};

function contextWith(dockerfile: string) {
  return (scope: Construct) => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), "week-policy-"));
    new BuildContext(scope, "ctx", { source, files: { Dockerfile: dockerfile } });
    fs.rmSync(source, { recursive: true });
  };
}

const goodDockerfile = [
  "ARG BASE_IMAGE=python:3.11-slim-bookworm",
  "FROM ${BASE_IMAGE} AS build",
  "RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*",
  "RUN pip install --no-cache-dir fastapi==0.142.2",
  "FROM ${BASE_IMAGE}",
  "COPY --from=build /opt /opt",
  "USER app",
  'CMD ["python"]',
].join("\n");

// [rule id, what is wrong, the bad construct, the good one]
const cases: Array<[string, string, (s: Construct) => void, (s: Construct) => void]> = [
  ["WEEK-DOCKER-001", "an image tagged latest", (s) => new Image(s, "i", { name: "postgres:latest" }), (s) => new Image(s, "i", { name: "postgres:17.6-bookworm" })],
  ["WEEK-DOCKER-001", "an untagged container image", (s) => new Container(s, "c", { ...goodContainer, image: "busybox" }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-001", "a Cloud Run image at latest", (s) => new CloudRunV2Service(s, "r", { ...goodRun, template: { ...goodRun.template, containers: [{ image: "gcr.io/p/api:latest" }] } }), (s) => new CloudRunV2Service(s, "r", goodRun)],
  ["WEEK-DOCKER-002", "a port on every interface", (s) => new Container(s, "c", { ...goodContainer, ports: [{ internal: 80, external: 8081 }] }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-003", "no healthcheck", (s) => new Container(s, "c", { ...goodContainer, healthcheck: undefined }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-003", "no memory limit", (s) => new Container(s, "c", { ...goodContainer, memory: undefined }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-003", "no restart policy", (s) => new Container(s, "c", { ...goodContainer, restart: "no" }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-004", "a privileged container", (s) => new Container(s, "c", { ...goodContainer, privileged: true }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-DOCKER-004", "the Docker socket mounted", (s) => new Container(s, "c", { ...goodContainer, volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] }), (s) => new Container(s, "c", goodContainer)],
  ["WEEK-STATE-001", "a volume without destroy protection", (s) => new Volume(s, "v", { name: "data" }), (s) => new Volume(s, "v", { name: "data", lifecycle: { preventDestroy: true } })],
  ["WEEK-SECRET-001", "a literal password in a container's environment", (s) => new Container(s, "c", { ...goodContainer, env: ["POSTGRES_PASSWORD=hunter2"] }), (s) => new Container(s, "c", { ...goodContainer, env: ["POSTGRES_PASSWORD=${random_password.p.result}"] })],
  ["WEEK-SECRET-001", "a literal URL with a password", (s) => new Container(s, "c", { ...goodContainer, env: ["DB=postgresql://u:hunter2@db/week"] }), (s) => new Container(s, "c", { ...goodContainer, env: ["DB_HOST=database"] })],
  ["WEEK-SECRET-001", "a literal token in Cloud Run", (s) => new CloudRunV2Service(s, "r", { ...goodRun, template: { ...goodRun.template, containers: [{ image: "api:1.0", env: [{ name: "API_TOKEN", value: "abc123" }] }] } }), (s) => new CloudRunV2Service(s, "r", goodRun)],
  ["WEEK-SECRET-001", "a password output that is not sensitive", (s) => new TerraformOutput(s, "database_password", { value: "${random_password.p.result}" }), (s) => new TerraformOutput(s, "database_password", { value: "${random_password.p.result}", sensitive: true })],
  ["WEEK-HEROKU-001", "a secret in plain config vars", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { SECRET_KEY: "x" } }), (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", sensitiveConfigVars: { SECRET_KEY: "x" }, configVars: { LOG_LEVEL: "info" } })],
  ["WEEK-GCP-001", "Cloud SQL without SSL required", (s) => new SqlDatabaseInstance(s, "db", { ...goodSql, settings: { ...goodSettings, ipConfiguration: { sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED" } } }), (s) => new SqlDatabaseInstance(s, "db", goodSql)],
  ["WEEK-GCP-002", "Cloud SQL open to the world", (s) => new SqlDatabaseInstance(s, "db", { ...goodSql, settings: { ...goodSettings, ipConfiguration: { sslMode: "ENCRYPTED_ONLY", authorizedNetworks: [{ value: "0.0.0.0/0" }] } } }), (s) => new SqlDatabaseInstance(s, "db", goodSql)],
  ["WEEK-GCP-003", "Cloud SQL without backups", (s) => new SqlDatabaseInstance(s, "db", { ...goodSql, settings: { ...goodSettings, backupConfiguration: { enabled: false } } }), (s) => new SqlDatabaseInstance(s, "db", goodSql)],
  ["WEEK-GCP-003", "Cloud SQL without deletion protection", (s) => new SqlDatabaseInstance(s, "db", { ...goodSql, deletionProtection: false }), (s) => new SqlDatabaseInstance(s, "db", goodSql)],
  ["WEEK-GCP-004", "Cloud Run open to allUsers", (s) => new CloudRunV2ServiceIamMember(s, "m", { name: "api", location: "europe-west1", role: "roles/run.invoker", member: "allUsers" }), (s) => new CloudRunV2ServiceIamMember(s, "m", { name: "api", location: "europe-west1", role: "roles/run.invoker", member: "serviceAccount:ui@p.iam.gserviceaccount.com" })],
  ["WEEK-GCP-005", "Cloud Run as the default compute account", (s) => new CloudRunV2Service(s, "r", { ...goodRun, template: { containers: goodRun.template.containers } }), (s) => new CloudRunV2Service(s, "r", goodRun)],
  ["WEEK-DOCKERFILE-001", "an unpinned base", contextWith(goodDockerfile.replace("python:3.11-slim-bookworm", "python")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-002", "a final stage running as root", contextWith(goodDockerfile.replace("USER app", "USER root")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-002", "a final stage with no USER", contextWith(goodDockerfile.replace("USER app\n", "")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-003", "a token build argument", contextWith(goodDockerfile.replace("FROM ${BASE_IMAGE}\n", "FROM ${BASE_IMAGE}\nARG GIT_TOKEN\n")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-004", "apt-get install with recommends", contextWith(goodDockerfile.replace(" --no-install-recommends", "")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-005", "apt lists left behind", contextWith(goodDockerfile.replace(" && rm -rf /var/lib/apt/lists/*", "")), contextWith(goodDockerfile)],
  ["WEEK-DOCKERFILE-005", "pip's cache kept", contextWith(goodDockerfile.replace("pip install --no-cache-dir", "pip install")), contextWith(goodDockerfile)],
];

describe("policy rules", () => {
  it.each(cases)("%s fires on %s and stays quiet on the fixed construct", (id, _what, bad, good) => {
    const fired = check(id, bad);
    expect(fired.findings).toBeGreaterThan(0);
    expect(fired.errors[0]).toMatch(new RegExp(`^\\[${id}\\] policy/\\S+: .+\\. Fix: .+`));
    expect(check(id, good)).toEqual(expect.objectContaining({ findings: 0, errors: [] }));
  });

  it("every rule has a unique WEEK id and a one-line statement, and a test above", () => {
    const ids = WEEK_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of WEEK_RULES) {
      expect(r.id).toMatch(/^WEEK-[A-Z]+-\d{3}$/);
      expect(r.statement).toMatch(/^[A-Z][^\n]+\.$/);
    }
    expect(new Set(cases.map(([id]) => id))).toEqual(new Set(ids));
  });
});

describe("suppressions", () => {
  it("waive one rule where they are, with the reason, and are counted", () => {
    const report = check("WEEK-STATE-001", (s) => {
      const volume = new Volume(s, "v", { name: "scratch" });
      suppress(volume, "WEEK-STATE-001", "scratch space that the course throws away every day");
    });
    expect(report).toEqual(expect.objectContaining({ findings: 0, suppressions: 1 }));
  });

  it("must name a rule and give a reason", () => {
    const stack = new TerraformStack(testApp(), "s");
    expect(() => suppress(stack, "DOCKER-1", "because it is fine here")).toThrow('ruleId must be a rule id such as WEEK-DOCKER-001, got "DOCKER-1"');
    expect(() => suppress(stack, "WEEK-STATE-001", "ok")).toThrow('must say why in a sentence, got "ok"');
  });

  it("do not waive other rules", () => {
    const report = check("WEEK-DOCKER-003", (s) => {
      const c = new Container(s, "c", { ...goodContainer, memory: undefined });
      suppress(c, "WEEK-DOCKER-002", "the ports are opened on purpose in this test");
    });
    expect(report.findings).toBe(1);
  });
});

describe("the pack at synth", () => {
  it("stops app synth with the rule id, the resource path and the fix", () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "week-out-")) });
    const stack = new TerraformStack(app, "bad");
    new DockerProvider(stack, "docker", {});
    new Image(stack, "i", { name: "postgres:latest" });
    PolicyPack.applyTo(stack, WEEK_RULES);
    expect(() => app.synth()).toThrow(/\[WEEK-DOCKER-001\] bad\/i: image "postgres:latest" is not pinned\. Fix: name an exact tag/);
  });

  it("summarises rules, findings and suppressions in one line", () => {
    const stack = new TerraformStack(testApp(), "local");
    const pack = PolicyPack.applyTo(stack, WEEK_RULES);
    Testing.synth(stack);
    expect(pack.summary("local")).toBe(`policy local: ${WEEK_RULES.length} rules checked, 0 findings, 0 suppressions`);
  });
});
