import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkCompose } from "../policies/compose";
import { RULE_IDS } from "../policies/rule-ids";
import { isPinnedReference } from "../policies/image-ref";
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

/** The rule id of a finding line (`[WEEK-DOCKER-002] compose/services/svc: ...`). */
function ruleOf(line: string): string {
  return /^\[([A-Z0-9-]+)\]/.exec(line)?.[1] ?? line;
}

function findings(service: Record<string, unknown>): string[] {
  return checkCompose({ services: { svc: service } }).errors.map(ruleOf);
}

describe("Compose checks of the policy pack", () => {
  it("accept the good service", () => {
    expect(findings(GOOD)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    // WEEK-DOCKER-001: pinned images
    ["an untagged image", { image: "postgres" }, [RULE_IDS.dockerPinnedImage]],
    ["the latest tag", { image: "postgres:latest" }, [RULE_IDS.dockerPinnedImage]],
    ["a registry port but no tag", { image: "registry.example.com:5000/postgres" }, [RULE_IDS.dockerPinnedImage]],
    ["a tag from a variable", { image: "postgres:${TAG}" }, [RULE_IDS.dockerPinnedImage]],
    ["neither image nor build", { image: undefined }, [RULE_IDS.dockerPinnedImage]],
    ["a major-only tag", { image: "postgres:17" }, [RULE_IDS.dockerPinnedImage]],
    ["a major-only tag with a variant", { image: "python:3-slim" }, [RULE_IDS.dockerPinnedImage]],
    ["a channel tag", { image: "postgres:stable" }, [RULE_IDS.dockerPinnedImage]],
    ["a pinned default a variable can override", { image: "postgres:${TAG:-17.6}" }, [RULE_IDS.dockerPinnedImage]],
    // WEEK-DOCKER-002: loopback ports
    ["a short port on every interface", { ports: ["5432:5432"] }, [RULE_IDS.dockerLoopbackPorts]],
    ["a container-only port number", { ports: [5432] }, [RULE_IDS.dockerLoopbackPorts]],
    ["a long port without host_ip", { ports: [{ target: 5432, published: 5432 }] }, [RULE_IDS.dockerLoopbackPorts]],
    ["a long port on 0.0.0.0", { ports: [{ target: 5432, published: 5432, host_ip: "0.0.0.0" }] }, [RULE_IDS.dockerLoopbackPorts]],
    ["a short port on 0.0.0.0", { ports: ["0.0.0.0:5432:5432"] }, [RULE_IDS.dockerLoopbackPorts]],
    ["one good port and one open", { ports: ["127.0.0.1:1:1", "2:2"] }, [RULE_IDS.dockerLoopbackPorts]],
    ["an address from a variable", { ports: ["${BIND}:5432:5432"] }, [RULE_IDS.dockerLoopbackPorts]],
    ["a long port with host_ip from a variable", { ports: [{ target: 5432, published: 5432, host_ip: "$BIND" }] }, [RULE_IDS.dockerLoopbackPorts]],
    // WEEK-DOCKER-003: healthcheck, memory, restart
    ["no healthcheck", { healthcheck: undefined }, [RULE_IDS.dockerContainerLimits]],
    ["a disabled healthcheck", { healthcheck: { disable: true } }, [RULE_IDS.dockerContainerLimits]],
    ["a NONE healthcheck", { healthcheck: { test: ["NONE"] } }, [RULE_IDS.dockerContainerLimits]],
    ["no memory limit", { mem_limit: undefined }, [RULE_IDS.dockerContainerLimits]],
    ["no restart policy", { restart: undefined }, [RULE_IDS.dockerContainerLimits]],
    ["restart no", { restart: "no" }, [RULE_IDS.dockerContainerLimits]],
    ["a memory limit from a variable", { mem_limit: "${MEM}" }, [RULE_IDS.dockerContainerLimits]],
    ["restart from a variable", { restart: "${RESTART:-always}" }, [RULE_IDS.dockerContainerLimits]],
    ["none of the three", { healthcheck: undefined, mem_limit: undefined, restart: undefined }, [RULE_IDS.dockerContainerLimits, RULE_IDS.dockerContainerLimits, RULE_IDS.dockerContainerLimits]],
    // WEEK-DOCKER-004: host control
    ["privileged", { privileged: true }, [RULE_IDS.dockerNoHostControl]],
    ["the socket, short form", { volumes: ["/var/run/docker.sock:/var/run/docker.sock"] }, [RULE_IDS.dockerNoHostControl]],
    ["the socket, long form", { volumes: [{ type: "bind", source: "/run/docker.sock", target: "/s" }] }, [RULE_IDS.dockerNoHostControl]],
    ["the socket elsewhere", { volumes: ["/home/me/.docker/run/docker.sock:/var/run/docker.sock:ro"] }, [RULE_IDS.dockerNoHostControl]],
    ["privileged from a variable", { privileged: "${PRIV}" }, [RULE_IDS.dockerNoHostControl]],
    ["the host's root, short form", { volumes: ["/:/host:ro"] }, [RULE_IDS.dockerNoHostControl]],
    ["the host's root, long form", { volumes: [{ type: "bind", source: "/", target: "/host" }] }, [RULE_IDS.dockerNoHostControl]],
    ["the host's /etc", { volumes: ["/etc:/host-etc"] }, [RULE_IDS.dockerNoHostControl]],
    ["ssh keys from the home folder", { volumes: ["~/.ssh:/root/.ssh:ro"] }, [RULE_IDS.dockerNoHostControl]],
    ["a bind from a variable", { volumes: ["$HOME:/h"] }, [RULE_IDS.dockerNoHostControl]],
    ["an added capability", { cap_add: ["SYS_ADMIN"] }, [RULE_IDS.dockerNoHostControl]],
    ["a host device", { devices: ["/dev/fuse:/dev/fuse"] }, [RULE_IDS.dockerNoHostControl]],
    ["the host's pid namespace", { pid: "host" }, [RULE_IDS.dockerNoHostControl]],
    ["the host's network", { network_mode: "host" }, [RULE_IDS.dockerNoHostControl]],
    ["the host's ipc namespace", { ipc: "host" }, [RULE_IDS.dockerNoHostControl]],
    ["the host's user namespace", { userns_mode: "host" }, [RULE_IDS.dockerNoHostControl]],
    ["another container's network", { network_mode: "container:db" }, [RULE_IDS.dockerNoHostControl]],
    ["seccomp unconfined", { security_opt: ["seccomp:unconfined"] }, [RULE_IDS.dockerNoHostControl]],
    ["user root", { user: "root" }, [RULE_IDS.dockerNoHostControl]],
    ["user +0", { user: "+0" }, [RULE_IDS.dockerNoHostControl]],
    ["user 0 as a YAML number", { user: 0 }, [RULE_IDS.dockerNoHostControl]],
    ["user -0 with a group", { user: "-0:1000" }, [RULE_IDS.dockerNoHostControl]],
    ["volumes_from another service", { volumes_from: ["database"] }, [RULE_IDS.dockerNoHostControl]],
    ["a bind with shared propagation", { volumes: [{ type: "bind", source: "./d", target: "/d", bind: { propagation: "rshared" } }] }, [RULE_IDS.dockerNoHostControl]],
    ["a whole home folder, absolute", { volumes: ["/home/ada:/h"] }, [RULE_IDS.dockerNoHostControl]],
    ["SELinux spc_t", { security_opt: ["label=type:spc_t"] }, [RULE_IDS.dockerNoHostControl]],
    ["an allow-all seccomp profile file", { security_opt: ["seccomp=./allow-all.json"] }, [RULE_IDS.dockerNoHostControl]],
    ["apparmor unconfined with =", { security_opt: ["apparmor=unconfined"] }, [RULE_IDS.dockerNoHostControl]],
    ["another service's pid namespace", { pid: "service:database" }, [RULE_IDS.dockerNoHostControl]],
    // WEEK-PACK-001: keys the pack does not know
    ["sysctls", { sysctls: { "net.ipv4.ip_forward": 1 } }, [RULE_IDS.knownResources]],
    ["another runtime", { runtime: "runsc" }, [RULE_IDS.knownResources]],
    ["extra hosts", { extra_hosts: ["metadata.google.internal:169.254.169.254"] }, [RULE_IDS.knownResources]],
    ["a syslog logging driver", { logging: { driver: "syslog", options: { "syslog-address": "tcp://203.0.113.1:514" } } }, [RULE_IDS.knownResources]],
    ["a config read from a host file", { configs: [{ source: "shadow", target: "/x" }] }, [RULE_IDS.knownResources]],
    // WEEK-SECRET-001: literal secrets
    ["a literal password", { environment: { POSTGRES_PASSWORD: "hunter2" } }, [RULE_IDS.secretLiterals]],
    ["a literal token, list form", { environment: ["JUPYTER_TOKEN=abc"] }, [RULE_IDS.secretLiterals]],
    ["a secret variable with a literal default", { environment: { API_KEY: "${API_KEY:-abc}" } }, [RULE_IDS.secretLiterals]],
    ["a secret half literal", { environment: { SECRET: "prefix-${SECRET_PART}" } }, [RULE_IDS.secretLiterals]],
    ["a password in a URL", { environment: { DATABASE_URL: "postgresql://week:hunter2@database:5432/week" } }, [RULE_IDS.secretLiterals]],
    ["a password in another URL", { environment: { BROKER: "amqp://u:p4ss@mq/" } }, [RULE_IDS.secretLiterals]],
    ["a URL password half literal", { environment: { DATABASE_URL: "postgresql://${U}:x${P}@db/w" } }, [RULE_IDS.secretLiterals]],
    ["a literal password, list form", { environment: ["DB_PASS=hunter2"] }, [RULE_IDS.secretLiterals]],
    ["a database URL written out, even without a password (a secret name, as in Terraform)", { environment: { DATABASE_URL: "postgresql://database:5432/week" } }, [RULE_IDS.secretLiterals]],
    ["a password in a URL, list form", { environment: ["BROKER=amqp://u:p4ss@mq/"] }, [RULE_IDS.secretLiterals]],
    ["a token as the user of a git URL", { environment: { REPO: "https://ghp_abc123@github.com/o/r.git" } }, [RULE_IDS.secretLiterals]],
    ["an escaped dollar is literal text", { environment: { SECRET: "$${SECRET}" } }, [RULE_IDS.secretLiterals]],
    ["a libpq DSN under an innocent name", { environment: { DB: "host=db user=week password=hunter2" } }, [RULE_IDS.secretLiterals]],
    ["a JDBC password parameter", { environment: { JDBC: "jdbc:postgresql://db/week?password=hunter2" } }, [RULE_IDS.secretLiterals]],
    ["a token in the command", { command: ["sh", "-c", `git clone https://${"ghp_" + "a1B2".repeat(9)}@github.com/o/r`] }, [RULE_IDS.secretLiterals]],
    ["a password in the healthcheck", { healthcheck: { test: ["CMD-SHELL", "PGPASSWORD=hunter2 pg_isready"] } }, [RULE_IDS.secretLiterals]],
    ["a token in a label", { labels: { note: `xoxb-${"1".repeat(12)}-${"2".repeat(13)}-${"abcd".repeat(6)}` } }, [RULE_IDS.secretLiterals]],
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
    ["a secret from the shell, map form", { environment: { GIT_TOKEN: null } }],
    ["where a secret is kept, not the secret", { environment: { POSTGRES_PASSWORD_FILE: "/run/secrets/pw" } }],
    ["a full release with a variant", { image: "week-local/python:3.11-slim-bookworm" }],
    ["a bind of a project file", { volumes: [{ type: "bind", source: "./lambdas-src/database/initdb/001-course.sql", target: "/docker-entrypoint-initdb.d/001-course.sql", read_only: true }] }],
    ["a bind of a project folder, short form", { volumes: ["./notebooks:/home/student/workspace"] }],
    ["an escaped dollar in a bind", { volumes: ["./data$$:/d"] }],
    ["an empty cap_add", { cap_add: [] }],
    ["a healthcheck reading the password from the environment", { healthcheck: { test: ["CMD-SHELL", "PGPASSWORD=$${POSTGRES_PASSWORD} pg_isready"] } }],
    ["no-new-privileges", { security_opt: ["no-new-privileges:true"] }],
    ["a non-root user by name", { user: "student" }],
    ["the default network mode", { network_mode: "bridge" }],
    ["a non-root user", { user: "1000:1000" }],
  ])("accept %s", (_what, change) => {
    expect(findings({ ...GOOD, ...change })).toEqual([]);
  });

  it("honour a suppression that names the rule and gives a reason, and only that rule", () => {
    const service = { ...GOOD, ports: ["0.0.0.0:1:1"], restart: "no", "x-week-suppress": [{ rule: RULE_IDS.dockerLoopbackPorts, reason: "opened on purpose" }] };
    const report = checkCompose({ services: { svc: service } });
    expect(report.suppressed.map((f) => f.ruleId)).toEqual([RULE_IDS.dockerLoopbackPorts]);
    expect(report.suppressed[0]).toEqual({ ruleId: RULE_IDS.dockerLoopbackPorts, path: "compose/services/svc", reason: "opened on purpose" });
    expect(report.errors.map(ruleOf)).toEqual([RULE_IDS.dockerContainerLimits]);
    const noReason = checkCompose({ services: { svc: { ...service, "x-week-suppress": [{ rule: RULE_IDS.dockerLoopbackPorts, reason: " " }] } } });
    expect(noReason.errors.map(ruleOf)).toEqual([RULE_IDS.dockerLoopbackPorts, RULE_IDS.dockerContainerLimits]);
    const otherService = checkCompose({ services: { svc: service, other: { ...GOOD, ports: ["0.0.0.0:2:2"] } } });
    expect(otherService.errors.map(ruleOf)).toEqual([RULE_IDS.dockerLoopbackPorts, RULE_IDS.dockerContainerLimits]);
  });

  it("name the rule, the place and the value, never a secret's value, in the line synth writes", () => {
    const [finding] = checkCompose({ services: { db: { ...GOOD, environment: { POSTGRES_PASSWORD: "hunter2" } } } }).errors;
    expect(finding).toBe(
      "[WEEK-SECRET-001] compose/services/db: environment variable POSTGRES_PASSWORD holds a literal secret. Fix: pass it from a sensitive variable, a generated password or a secret reference, never a literal",
    );
    const [url] = checkCompose({ services: { db: { ...GOOD, environment: { DATABASE_URL: "postgresql://a:hunter2@b/c" } } } }).errors;
    expect(url).toMatch(/^\[WEEK-SECRET-001\] compose\/services\/db: environment variable DATABASE_URL /);
    expect(url).not.toContain("hunter2");
    const [port] = checkCompose({ services: { api: { ...GOOD, ports: ["8080:8000"] } } }).errors;
    expect(port).toMatch(/^\[WEEK-DOCKER-002\] compose\/services\/api: host port "8080" is published on every interface\. Fix: /);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a macvlan network", { networks: { lan: { driver: "macvlan", driver_opts: { parent: "eth0" } } } }, [RULE_IDS.knownResources, RULE_IDS.knownResources]],
    ["a named volume whose driver options bind-mount /", { volumes: { data: { driver: "local", driver_opts: { type: "none", o: "bind", device: "/" } } } }, [RULE_IDS.dockerNoHostControl]],
    ["a named volume on an NFS share", { volumes: { data: { driver_opts: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" } } } }, [RULE_IDS.dockerNoHostControl]],
    ["top-level configs", { configs: { shadow: { file: "/etc/shadow" } } }, [RULE_IDS.knownResources]],
  ])("find %s at the top level", (_what, top, expected) => {
    expect(checkCompose({ services: { svc: GOOD }, ...top }).errors.map(ruleOf).sort()).toEqual(expected.sort());
  });

  it("accept the rendered file's top level: a bridge network, labelled local volumes, extensions", () => {
    expect(checkCompose({ name: "week", services: { svc: GOOD }, networks: { week: { driver: "bridge", labels: { course: "week" } } }, volumes: { data: { labels: { course: "week" } } }, "x-week": {} }).errors).toEqual([]);
  });

  it("count every rule and report like a stack's pack", () => {
    expect(checkCompose({ services: { svc: GOOD } })).toEqual({ rules: 6, findings: 0, suppressions: 0, errors: [], warnings: [], suppressed: [] });
    expect(checkCompose(null)).toEqual({ rules: 6, findings: 0, suppressions: 0, errors: [], warnings: [], suppressed: [] });
  });

  it("tell pinned references from unpinned ones with the Terraform rules' test", () => {
    expect(["a:1.0", "a/b:1.2-slim", "h:5000/a:1.2", `a@sha256:${"b".repeat(64)}`].map(isPinnedReference)).toEqual([true, true, true, true]);
    expect(["a", "a:latest", "h:5000/a", "a:", "a:1", "h:5000/a:1"].map(isPinnedReference)).toEqual([false, false, false, false, false, false]);
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
