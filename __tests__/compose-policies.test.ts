import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkCompose, formatComposeFinding, isPinnedImage } from "../policies/compose";
import { writeDatabaseEnv } from "../scripts/write-database-env";

/** A service every rule accepts; each case changes one thing. */
const GOOD = {
  image: "postgres:17.6-bookworm",
  restart: "unless-stopped",
  mem_limit: "512m",
  ports: ["127.0.0.1:5432:5432/tcp"],
  healthcheck: { test: ["CMD-SHELL", "pg_isready"], interval: "5s" },
  environment: { POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set it}" },
};

function findings(service: Record<string, unknown>): string[] {
  return checkCompose({ services: { svc: service } }).findings.map((f) => f.ruleId);
}

describe("Compose checks of the policy pack", () => {
  it("accept the good service", () => {
    expect(findings(GOOD)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    // WEEK-DOCKER-001: pinned images
    ["an untagged image", { image: "postgres" }, ["WEEK-DOCKER-001"]],
    ["the latest tag", { image: "postgres:latest" }, ["WEEK-DOCKER-001"]],
    ["a registry port but no tag", { image: "registry.example.com:5000/postgres" }, ["WEEK-DOCKER-001"]],
    ["a tag from a variable", { image: "postgres:${TAG}" }, ["WEEK-DOCKER-001"]],
    ["neither image nor build", { image: undefined }, ["WEEK-DOCKER-001"]],
    // WEEK-DOCKER-002: loopback ports
    ["a short port on every interface", { ports: ["5432:5432"] }, ["WEEK-DOCKER-002"]],
    ["a container-only port number", { ports: [5432] }, ["WEEK-DOCKER-002"]],
    ["a long port without host_ip", { ports: [{ target: 5432, published: 5432 }] }, ["WEEK-DOCKER-002"]],
    ["a long port on 0.0.0.0", { ports: [{ target: 5432, published: 5432, host_ip: "0.0.0.0" }] }, ["WEEK-DOCKER-002"]],
    ["a short port on 0.0.0.0", { ports: ["0.0.0.0:5432:5432"] }, ["WEEK-DOCKER-002"]],
    ["one good port and one open", { ports: ["127.0.0.1:1:1", "2:2"] }, ["WEEK-DOCKER-002"]],
    // WEEK-DOCKER-003: healthcheck, memory, restart
    ["no healthcheck", { healthcheck: undefined }, ["WEEK-DOCKER-003"]],
    ["a disabled healthcheck", { healthcheck: { disable: true } }, ["WEEK-DOCKER-003"]],
    ["a NONE healthcheck", { healthcheck: { test: ["NONE"] } }, ["WEEK-DOCKER-003"]],
    ["no memory limit", { mem_limit: undefined }, ["WEEK-DOCKER-003"]],
    ["no restart policy", { restart: undefined }, ["WEEK-DOCKER-003"]],
    ["restart no", { restart: "no" }, ["WEEK-DOCKER-003"]],
    ["none of the three", { healthcheck: undefined, mem_limit: undefined, restart: undefined }, ["WEEK-DOCKER-003", "WEEK-DOCKER-003", "WEEK-DOCKER-003"]],
    // WEEK-DOCKER-004: host control
    ["privileged", { privileged: true }, ["WEEK-DOCKER-004"]],
    ["the socket, short form", { volumes: ["/var/run/docker.sock:/var/run/docker.sock"] }, ["WEEK-DOCKER-004"]],
    ["the socket, long form", { volumes: [{ type: "bind", source: "/run/docker.sock", target: "/s" }] }, ["WEEK-DOCKER-004"]],
    ["the socket elsewhere", { volumes: ["/home/me/.docker/run/docker.sock:/var/run/docker.sock:ro"] }, ["WEEK-DOCKER-004"]],
    // WEEK-SECRET-001: literal secrets
    ["a literal password", { environment: { POSTGRES_PASSWORD: "hunter2" } }, ["WEEK-SECRET-001"]],
    ["a literal token, list form", { environment: ["JUPYTER_TOKEN=abc"] }, ["WEEK-SECRET-001"]],
    ["a secret variable with a literal default", { environment: { API_KEY: "${API_KEY:-abc}" } }, ["WEEK-SECRET-001"]],
    ["a secret half literal", { environment: { SECRET: "prefix-${SECRET_PART}" } }, ["WEEK-SECRET-001"]],
    ["a password in a URL", { environment: { DATABASE_URL: "postgresql://week:hunter2@database:5432/week" } }, ["WEEK-SECRET-001"]],
    ["a password in another URL", { environment: { BROKER: "amqp://u:p4ss@mq/" } }, ["WEEK-SECRET-001"]],
    ["a URL password half literal", { environment: { DATABASE_URL: "postgresql://${U}:x${P}@db/w" } }, ["WEEK-SECRET-001"]],
  ])("find %s", (_what, change, expected) => {
    expect(findings({ ...GOOD, ...change })).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a digest", { image: "postgres@sha256:" + "a".repeat(64) }],
    ["a registry with port and tag", { image: "registry.example.com:5000/postgres:17.6" }],
    ["a built image with any name", { image: "week-api", build: { context: "." } }],
    ["a build only", { image: undefined, build: { context: "." } }],
    ["long ports on loopback", { ports: [{ target: 1, published: 1, host_ip: "127.0.0.1" }] }],
    ["IPv6 loopback", { ports: ["[::1]:5432:5432"] }],
    ["no ports", { ports: undefined }],
    ["a memory limit under deploy", { mem_limit: undefined, deploy: { resources: { limits: { memory: "512m" } } } }],
    ["restart on-failure:3", { restart: "on-failure:3" }],
    ["a named volume", { volumes: ["database-data:/var/lib/postgresql/data"] }],
    ["a required secret", { environment: { JUPYTER_TOKEN: "${JUPYTER_TOKEN:?set it}" } }],
    ["an optional secret, empty by default", { environment: { GIT_TOKEN: "${GIT_TOKEN:-}" } }],
    ["a secret from the shell, list form", { environment: ["GIT_TOKEN"] }],
    ["a secret plain variable", { environment: { TOKEN: "$TOKEN" } }],
    ["a URL with variables", { environment: { DATABASE_URL: "postgresql://${U:?u}:${P:?p}@database:5432/${D:?d}" } }],
    ["a URL without password", { environment: { API_URL: "http://api:8000" } }],
    ["an env file", { env_file: ["database.env"], environment: undefined }],
    ["plain settings", { environment: { PORT: "8000", LOG_LEVEL: "info" } }],
  ])("accept %s", (_what, change) => {
    expect(findings({ ...GOOD, ...change })).toEqual([]);
  });

  it("honour a suppression that names the rule and gives a reason, and only that rule", () => {
    const service = { ...GOOD, ports: ["0.0.0.0:1:1"], restart: "no", "x-week-suppress": [{ rule: "WEEK-DOCKER-002", reason: "opened on purpose" }] };
    const report = checkCompose({ services: { svc: service } });
    expect(report.suppressed.map((f) => f.ruleId)).toEqual(["WEEK-DOCKER-002"]);
    expect(report.findings.map((f) => f.ruleId)).toEqual(["WEEK-DOCKER-003"]);
    const noReason = checkCompose({ services: { svc: { ...service, "x-week-suppress": [{ rule: "WEEK-DOCKER-002", reason: " " }] } } });
    expect(noReason.findings.map((f) => f.ruleId)).toEqual(["WEEK-DOCKER-002", "WEEK-DOCKER-003"]);
  });

  it("name the rule, the place and the value, never a secret's value", () => {
    const [finding] = checkCompose({ services: { db: { ...GOOD, environment: { POSTGRES_PASSWORD: "hunter2" } } } }).findings;
    expect(formatComposeFinding(finding)).toBe(
      "WEEK-SECRET-001 services.db.environment.POSTGRES_PASSWORD: service db sets POSTGRES_PASSWORD to a literal value (fix: take it from the environment: POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD})",
    );
    const [url] = checkCompose({ services: { db: { ...GOOD, environment: { DATABASE_URL: "postgresql://a:hunter2@b/c" } } } }).findings;
    expect(formatComposeFinding(url)).not.toContain("hunter2");
    const [port] = checkCompose({ services: { api: { ...GOOD, ports: ["8080:8000"] } } }).findings;
    expect(port.message).toBe('service api publishes a port on every interface, got "8080:8000"');
  });

  it("tell pinned references from unpinned ones", () => {
    expect(["a:1", "a/b:1.2-x", "h:5000/a:1"].map(isPinnedImage)).toEqual([true, true, true]);
    expect(["a", "a:latest", "h:5000/a", "a:"].map(isPinnedImage)).toEqual([false, false, false, false]);
  });
});

describe("npm run database-env", () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "database-env-"));

  it("writes user, a generated password and database, mode 0600", () => {
    const target = path.join(dir(), "database.env");
    const old = process.umask(0o000);
    try {
      expect(writeDatabaseEnv(target, "week", "course")).toBe(true);
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(target, "utf8").split("\n");
    expect(lines[0]).toBe("POSTGRES_USER=week");
    expect(lines[1]).toMatch(/^POSTGRES_PASSWORD=[0-9a-f]{48}$/);
    expect(lines[2]).toBe("POSTGRES_DB=course");
  });

  it("generates a new password each time", () => {
    const d = dir();
    writeDatabaseEnv(path.join(d, "a"), "u", "d");
    writeDatabaseEnv(path.join(d, "b"), "u", "d");
    expect(fs.readFileSync(path.join(d, "a"), "utf8")).not.toBe(fs.readFileSync(path.join(d, "b"), "utf8"));
  });

  it.each([
    ["a file", (t: string) => fs.writeFileSync(t, "POSTGRES_PASSWORD=mine\n")],
    ["a dangling link", (t: string) => fs.symlinkSync(path.join(path.dirname(t), "nowhere"), t)],
  ])("never overwrites %s", (_what, make) => {
    const d = dir();
    const target = path.join(d, "database.env");
    make(target);
    const before = fs.lstatSync(target);
    expect(writeDatabaseEnv(target, "week", "week")).toBe(false);
    expect(fs.lstatSync(target).mtimeMs).toBe(before.mtimeMs);
    expect(fs.existsSync(path.join(d, "nowhere"))).toBe(false);
  });
});
