/**
 * The classroom stack: per student an isolated, labelled, limited bundle; one TLS proxy, the
 * only published port; secrets read at plan time; a roster change changes only that student.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { parseRoster, type Roster } from "../config/roster";
import type { WeekConfigInput } from "../config/schema";
import { renderNginxConf } from "../constructs/classroom/nginx-conf";
import { CLASS_PROBES, memoryShares } from "../constructs/classroom/student-bundle";
import { LocalStack } from "../stacks/local-stack";
import { PolicyPack, WEEK_RULES } from "../policies";
import { ClassroomStack } from "../stacks/classroom-stack";
import { ensureStudentSecrets, readStudentSecrets } from "../tools/classroom/secrets";
import { resourcesOf, stableSynth, testApp, weekConfig, type SynthOutput } from "./helpers";

const roster = (...ids: string[]): Roster => parseRoster(`id,name,email\n${ids.map((id) => `${id},Student ${id},${id}@example.com`).join("\n")}\n`, "roster.csv");

function synthClass(ids: string[], overrides: WeekConfigInput = {}, departed: string[] = []) {
  const config = weekConfig({ ...overrides, classroom: { course: "m2", services: ["sandbox", "database", "api"], ...overrides.classroom, roster: "roster.csv" } });
  const stack = new ClassroomStack(testApp(), "classroom", { config, roster: roster(...ids), departed });
  const json = Testing.synth(stack);
  return { stack, json, out: JSON.parse(json) as SynthOutput };
}

const labelsOf = (r: Record<string, unknown>) => Object.fromEntries(((r.labels as Array<{ label: string; value: string }>) ?? []).map((l) => [l.label, l.value]));

describe("ClassroomStack", () => {
  const { stack, out, json } = synthClass(["alice", "bob"]);
  const containers = resourcesOf(out, "docker_container");

  test("matches the reviewed snapshot", () => {
    expect(stableSynth(stack)).toMatchSnapshot();
  });

  test("gives each student their own network, sandbox, database and API, named after the course and the student", () => {
    expect(Object.values(containers).map((c) => c.name).sort()).toEqual([
      "m2-alice-api",
      "m2-alice-database",
      "m2-alice-sandbox",
      "m2-bob-api",
      "m2-bob-database",
      "m2-bob-sandbox",
      "m2-proxy",
    ]);
    expect(Object.values(resourcesOf(out, "docker_network")).map((n) => n.name).sort()).toEqual(["m2-alice", "m2-bob"]);
    expect(Object.values(resourcesOf(out, "docker_volume")).map((v) => v.name).sort()).toEqual([
      "m2-alice-database-data",
      "m2-alice-workspace-data",
      "m2-bob-database-data",
      "m2-bob-workspace-data",
    ]);
  });

  test("puts each student's containers on their network only, and the proxy on every student's", () => {
    const networkOf = (name: string) => (Object.values(containers).find((c) => c.name === name)?.networks_advanced as Array<{ name: string }>).map((n) => n.name);
    expect(networkOf("m2-alice-sandbox")).toEqual([expect.stringMatching(/^\$\{docker_network\.students_alice_network_[0-9A-F]{8}\.name\}$/)]);
    expect(networkOf("m2-bob-database")).toEqual([expect.stringMatching(/^\$\{docker_network\.students_bob_network_[0-9A-F]{8}\.name\}$/)]);
    expect(networkOf("m2-proxy")).toHaveLength(2);
  });

  test("labels every container, volume and network with the course and the student", () => {
    for (const type of ["docker_container", "docker_volume", "docker_network"]) {
      for (const r of Object.values(resourcesOf(out, type))) {
        const labels = labelsOf(r);
        expect(labels.course).toBe("m2");
        if (r.name !== "m2-proxy") expect(String(r.name)).toContain(`m2-${labels.student}`);
      }
    }
  });

  test("probes every student's container every 30 s and waits for none (the single-student stack keeps its own)", () => {
    const students = Object.values(containers).filter((c) => c.name !== "m2-proxy");
    expect(students).toHaveLength(6);
    for (const c of students) {
      expect(c.healthcheck).toMatchObject({ interval: CLASS_PROBES.interval });
      expect(c.wait).toBe(false);
    }
    const single = resourcesOf(JSON.parse(Testing.synth(new LocalStack(testApp(), "local", weekConfig()))), "docker_container");
    const byName = Object.fromEntries(Object.values(single).map((c) => [c.name, c]));
    expect(byName["week-database"]).toMatchObject({ wait: true, healthcheck: { interval: "5s" } });
    expect(byName["week-api"]).toMatchObject({ wait: true, healthcheck: { interval: "10s" } });
    // the Kubernetes rendering reads the services' own healthchecks
    const api = stack.bundles[0].services.find((s) => s.name === "api");
    expect(api).toMatchObject({ healthcheck: { interval: "10s" }, waitUntilHealthy: true });
  });

  test("limits memory and CPU of every container; the bundle's memory is shared out", () => {
    for (const c of Object.values(containers)) {
      expect(c.memory).toEqual(expect.any(Number));
      expect(c.cpus).toBe("1");
    }
    const memory = Object.fromEntries(Object.values(containers).map((c) => [c.name, c.memory]));
    expect([memory["m2-alice-sandbox"], memory["m2-alice-database"], memory["m2-alice-api"]]).toEqual([1536, 256, 256]);
    expect(memoryShares(2048, ["sandbox", "database"])).toMatchObject({ sandbox: 1792, database: 256 });
  });

  test("publishes nothing but the proxy's one port, on loopback by default", () => {
    for (const c of Object.values(containers)) {
      if (c.name === "m2-proxy") expect(c.ports).toEqual([{ internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" }]);
      else expect(c.ports ?? []).toEqual([]);
    }
  });

  test("serves each student's Jupyter under /<id>/ with their token read from their file at plan time", () => {
    const sandbox = Object.values(containers).find((c) => c.name === "m2-alice-sandbox") as Record<string, unknown>;
    const env = sandbox.env as string[];
    expect(env).toContain("JUPYTER_BASE_URL=/alice/jupyter/");
    expect(env.find((e) => e.startsWith("JUPYTER_TOKEN="))).toMatch(/^JUPYTER_TOKEN=\$\{sensitive\(trimspace\(file\(local\.students_alice_jupyter_token_path_[0-9A-F]{8}\)\)\)\}$/);
    expect(out.locals).toMatchObject({ [Object.keys(out.locals ?? {}).find((k) => k.startsWith("students_alice_jupyter_token_path")) as string]: "${path.module}/../../../state/classroom/m2/alice/jupyter_token" });
    expect(JSON.stringify((sandbox.healthcheck as { test: string[] }).test)).toContain("http://127.0.0.1:8000/alice/jupyter/api");
    expect(json).not.toMatch(/GIT_TOKEN|git_ssh_key/);
  });

  test("passes no policy finding, with no suppression while the proxy stays on loopback", () => {
    const fresh = synthClass(["alice", "bob"]).stack;
    const report = PolicyPack.applyTo(fresh, WEEK_RULES).judge();
    expect(report.errors).toEqual([]);
    expect(JSON.stringify(report)).not.toContain("WEEK-DOCKER-002");
  });

  test("a proxy opened to the lab network is the one suppressed port, and a student's published port is still a finding", () => {
    const opened = synthClass(["alice"], { classroom: { proxy: { bindAddress: "0.0.0.0" } } }).stack;
    expect(PolicyPack.applyTo(opened, WEEK_RULES).judge().errors).toEqual([]);
    const leaky = synthClass(["alice"], { classroom: { proxy: { bindAddress: "0.0.0.0" } } }).stack;
    const sandbox = leaky.node.findAll().find((c) => c.node.path.endsWith("alice/sandbox/service/container")) as unknown as { addOverride(p: string, v: unknown): void };
    sandbox.addOverride("ports", [{ internal: 8000, external: 8000, ip: "0.0.0.0", protocol: "tcp" }]);
    const errors = PolicyPack.applyTo(leaky, WEEK_RULES).judge().errors;
    expect(errors).toEqual([expect.stringContaining("[WEEK-DOCKER-002]")]);
  });
});

describe("a roster change", () => {
  const byAddress = (out: SynthOutput) => {
    const all: Record<string, string> = {};
    for (const [type, resources] of Object.entries(out.resource ?? {})) {
      for (const [name, r] of Object.entries(resources)) all[`${type}.${name}`] = JSON.stringify(r);
    }
    return all;
  };

  test("adding or removing a line adds or removes only that student's resources (and the proxy's routes)", () => {
    const before = byAddress(synthClass(["alice", "bob", "carol"]).out);
    const after = byAddress(synthClass(["alice", "carol", "dave"]).out);
    const removed = Object.keys(before).filter((k) => !(k in after));
    const added = Object.keys(after).filter((k) => !(k in before));
    const changed = Object.keys(before).filter((k) => k in after && before[k] !== after[k]);
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.every((k) => /\.students_bob_/.test(k))).toBe(true);
    expect(added.every((k) => /\.students_dave_/.test(k))).toBe(true);
    expect(changed).toEqual([expect.stringMatching(/^docker_container\.proxy_container_/)]);
  });

  test("a departed student's volumes stay at the same addresses while protectVolume is on", () => {
    const before = byAddress(synthClass(["alice", "bob"]).out);
    const after = byAddress(synthClass(["alice"], {}, ["bob"]).out);
    const bobVolumes = Object.keys(before).filter((k) => k.startsWith("docker_volume.students_bob_"));
    expect(bobVolumes).toHaveLength(2);
    for (const k of bobVolumes) expect(JSON.parse(after[k])).toMatchObject({ name: JSON.parse(before[k]).name, lifecycle: { prevent_destroy: true } });
    expect(Object.keys(after).filter((k) => k.includes("students_bob_") && !k.startsWith("docker_volume."))).toEqual([]);
    const unprotected = byAddress(synthClass(["alice"], { database: { protectVolume: false } }, ["bob"]).out);
    expect(Object.keys(unprotected).filter((k) => k.includes("students_bob_"))).toEqual([]);
  });
});

describe("the class's secrets", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "week-class-secrets-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("are written once per student, mode 0600, kept on the next run, new for a new student, and never synthesised", () => {
    expect(ensureStudentSecrets(root, "m2", roster("alice", "bob"), { user: "week", database: "week" })).toEqual(["alice", "bob"]);
    const alice = readStudentSecrets(root, "m2", "alice");
    expect(alice?.jupyterToken).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(alice?.databasePassword).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(fs.statSync(path.join(root, "state/classroom/m2/alice/jupyter_token")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(root, "state/classroom/m2/alice")).mode & 0o777).toBe(0o700);
    expect(ensureStudentSecrets(root, "m2", roster("alice", "bob", "carol"), { user: "week", database: "week" })).toEqual(["carol"]);
    expect(readStudentSecrets(root, "m2", "alice")).toEqual(alice);
    expect(readStudentSecrets(root, "m2", "carol")?.jupyterToken).not.toBe(alice?.jupyterToken);
    const { json } = synthClass(["alice", "bob"]);
    expect(json).not.toContain(alice?.jupyterToken);
    expect(json).not.toContain(alice?.databasePassword);
  });
});

describe("the proxy's nginx.conf", () => {
  const conf = renderNginxConf(
    [
      { id: "alice", jupyter: "m2-alice-sandbox:8000", api: "m2-alice-api:8000" },
      { id: "bob", jupyter: "m2-bob-sandbox:8000", app: "m2-bob-streamlit:8501" },
    ],
    { listenPort: 8443, serverName: "lab.example.org", certificatePath: "/c.pem", keyPath: "/k.pem" },
  );

  test("serves TLS only, resolving upstreams at request time so a stopped student does not stop the proxy", () => {
    expect(conf).toContain("listen 8443 ssl;");
    expect(conf).not.toMatch(/listen \d+;/);
    expect(conf).toContain("resolver 127.0.0.11");
    expect(conf).toContain("resolver_timeout 5s;");
    expect(conf).toMatch(/set \$jupyter_alice http:\/\/m2-alice-sandbox:8000;\n.*\n\s*proxy_pass \$jupyter_alice;/);
  });

  test("sends /<id>/ to Jupyter under /<id>/jupyter/, so that Jupyter's own /api/ never meets the student's API", () => {
    expect(conf).toContain("location = /alice/ { return 302 /alice/jupyter/; }");
    expect(conf).toContain("location /alice/jupyter/ {");
    const prefixes = [...conf.matchAll(/location (\/alice\/\S*) \{/g)].map((m) => m[1]);
    expect(prefixes.sort()).toEqual(["/alice/api/", "/alice/jupyter/"]);
    // Jupyter's REST API is <base>/api/: under /alice/jupyter/, never under /alice/api/
    expect("/alice/jupyter/api/".startsWith("/alice/api/")).toBe(false);
  });

  test("routes /<id>/api/ without its prefix and /<id>/app/ as is, only where the student has them", () => {
    expect(conf).toContain("rewrite ^/alice/api/(.*)$ /$1 break;");
    expect(conf).not.toContain("location /alice/app/");
    expect(conf).toContain("location /bob/app/");
    expect(conf).not.toContain("location /bob/api/");
    expect(conf).toContain("location / { return 404; }");
  });
});
