import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { parse } from "yaml";
import { composeDocument, composeYaml, localServices } from "../constructs/local/compose";
import { PROJECT_ROOT } from "../constructs/paths";
import { checkCompose } from "../policies/compose";
import { RULE_IDS } from "../policies/rule-ids";
import { renderComposeFiles } from "../scripts/write-compose";
import { LocalStack } from "../stacks/local-stack";
import type { WeekConfigInput } from "../config/schema";
import { resourcesOf, testApp, weekConfig, type SynthOutput } from "./helpers";

type Service = Record<string, unknown> & {
  environment?: Record<string, string>;
  env_file?: string[];
  ports: string[];
  volumes?: Array<{ type: string; source: string; target: string }>;
  healthcheck: { test: string[]; interval: string; timeout: string; retries: number; start_period: string };
  depends_on?: Record<string, { condition: string }>;
  networks: Record<string, { aliases: string[] }>;
};

function rendered(overrides: WeekConfigInput = {}) {
  const config = weekConfig(overrides);
  const stack = new LocalStack(testApp(), "local", config);
  const document = composeDocument(localServices(stack), { root: PROJECT_ROOT, network: config.network.name });
  const tf = JSON.parse(Testing.synth(stack)) as SynthOutput;
  return { document, services: document.services as Record<string, Service>, tf };
}

/** Compose's text of a literal: `$$` is one dollar. */
const unescape = (text: string) => text.replace(/\$\$/g, "$");

describe("docker-compose.yml", () => {
  const { document, services, tf } = rendered();
  const containers = Object.values(resourcesOf(tf, "docker_container"));
  const byAlias = Object.fromEntries(
    containers.map((c) => [(c.networks_advanced as Array<{ aliases: string[] }>)[0].aliases[0], c]),
  );

  it("is the committed file and the committed sandbox Dockerfile (run npm run compose after a change)", () => {
    const { files } = renderComposeFiles(weekConfig());
    expect(files.map((f) => path.relative(PROJECT_ROOT, f.path))).toEqual(["docker-compose.yml", path.join("lambdas-src", "sandbox", "Dockerfile")]);
    for (const file of files) expect(fs.readFileSync(file.path, "utf8")).toBe(file.content);
  });

  it("has the week's four services on one network, with the named volumes", () => {
    expect(Object.keys(services)).toEqual(["database", "sandbox", "api", "streamlit"]);
    expect(Object.keys(document.networks)).toEqual(["week"]);
    expect(Object.keys(document.volumes)).toEqual(["database-data", "workspace-data"]);
    for (const s of Object.values(services)) expect(Object.keys(s.networks)).toEqual(["week"]);
  });

  it("gives the database its env file, its named volume and the course's init SQL", () => {
    const db = services.database;
    expect(db.image).toBe("postgres:17.6-bookworm");
    expect(db.env_file).toEqual(["database.env"]);
    expect(db.environment).toBeUndefined();
    expect(db.volumes).toEqual([
      { type: "volume", source: "database-data", target: "/var/lib/postgresql/data" },
      { type: "bind", source: "./lambdas-src/database/initdb/001-course.sql", target: "/docker-entrypoint-initdb.d/001-course.sql", read_only: true },
    ]);
  });

  it("builds from the same folders and Dockerfiles as the stack", () => {
    const contexts = Object.fromEntries(
      Object.entries(services).filter(([, s]) => s.build !== undefined).map(([n, s]) => [n, s.build]),
    );
    expect(contexts).toEqual({
      sandbox: { context: "./lambdas-src/sandbox", dockerfile: "Dockerfile" },
      api: { context: "./lambdas-src/api", dockerfile: "Dockerfile" },
      streamlit: { context: "./lambdas-src/streamlit", dockerfile: "Dockerfile" },
    });
    // the stack's staged sandbox context holds the same Dockerfile Compose builds
    const sandboxImage = Object.values(resourcesOf(tf, "docker_image")).find((i) => String(i.name).startsWith("week-sandbox:"));
    expect(sandboxImage).toBeDefined();
    const stack = new LocalStack(testApp(), "local", weekConfig());
    const staged = localServices(stack).find((s) => s.description.name === "sandbox")!.description.image.build!;
    expect(fs.readFileSync(path.join(PROJECT_ROOT, "lambdas-src", "sandbox", "Dockerfile"), "utf8")).toBe(staged.rendered);
  });

  it("says the same as the Docker provider's containers: ports, memory, restart, healthcheck, env names, volumes, order", () => {
    expect(Object.keys(byAlias).sort()).toEqual(Object.keys(services).sort());
    for (const [name, s] of Object.entries(services)) {
      const c = byAlias[name] as Record<string, any>;
      expect(s.ports).toEqual(c.ports.map((p: any) => `${p.ip}:${p.external}:${p.internal}/${p.protocol}`));
      expect(s.mem_limit).toBe(`${c.memory}m`);
      expect(s.restart).toBe(c.restart);
      expect(s.hostname).toBe(c.hostname);
      expect(s.healthcheck.test.map(unescape)).toEqual(c.healthcheck.test);
      expect([s.healthcheck.interval, s.healthcheck.timeout, s.healthcheck.retries, s.healthcheck.start_period]).toEqual([
        c.healthcheck.interval, c.healthcheck.timeout, c.healthcheck.retries, c.healthcheck.start_period,
      ]);
      expect(s.logging).toEqual({ driver: c.log_driver, options: c.log_opts });
      const fromFile = name === "database" ? ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"] : [];
      expect([...fromFile, ...Object.keys(s.environment ?? {})]).toEqual((c.env ?? []).map((e: string) => e.split("=")[0]));
      expect((s.volumes ?? []).filter((v) => v.type === "volume").map((v) => v.target)).toEqual((c.volumes ?? []).map((v: any) => v.container_path));
      expect((s.volumes ?? []).filter((v) => v.type === "bind").map((v) => v.target)).toEqual((c.upload ?? []).map((u: any) => u.file));
      const tfDeps = (c.depends_on ?? []).map((ref: string) => {
        const target = Object.entries(resourcesOf(tf, "docker_container")).find(([id]) => ref === `docker_container.${id}`)?.[1] as any;
        return target.networks_advanced[0].aliases[0];
      });
      expect(Object.keys(s.depends_on ?? {})).toEqual(tfDeps);
      for (const dep of Object.values(s.depends_on ?? {})) expect(dep).toEqual({ condition: "service_healthy" });
    }
  });

  it("writes no secret: every secret is a required variable, the optional git token defaults to empty", () => {
    expect(services.sandbox.environment!.JUPYTER_TOKEN).toMatch(/^\$\{JUPYTER_TOKEN:\?[^}]+\}$/);
    expect(services.sandbox.environment!.GIT_TOKEN).toBe("${GIT_TOKEN:-}");
    expect(services.api.environment!.DATABASE_URL).toMatch(
      /^postgresql:\/\/\$\{POSTGRES_USER:\?[^}]+\}:\$\{POSTGRES_PASSWORD:\?[^}]+\}@database:5432\/\$\{POSTGRES_DB:\?[^}]+\}$/,
    );
    expect(checkCompose(document)).toEqual({ rules: 6, findings: 0, suppressions: 0, errors: [], warnings: [], suppressed: [] });
  });

  it("opens ports on every interface only with the configuration's opt-in, recorded as a suppression", () => {
    const opened = rendered({ network: { publishOnAllInterfaces: true } });
    for (const s of Object.values(opened.services)) {
      expect(s.ports.every((p) => p.startsWith("0.0.0.0:"))).toBe(true);
      expect(s["x-week-suppress"]).toEqual([{ rule: RULE_IDS.dockerLoopbackPorts, reason: expect.stringContaining("publishOnAllInterfaces") }]);
    }
    const report = checkCompose(opened.document);
    expect(report.errors).toEqual([]);
    expect(report.suppressed.map((f) => f.ruleId)).toEqual([RULE_IDS.dockerLoopbackPorts, RULE_IDS.dockerLoopbackPorts, RULE_IDS.dockerLoopbackPorts, RULE_IDS.dockerLoopbackPorts]);
  });

  it("follows the configuration: host ports, memory, network name, image, no Streamlit when disabled", () => {
    const { document: d, services: s } = rendered({
      api: { hostPort: 9090, memoryMiB: 768 },
      network: { name: "class-b" },
      database: { image: "postgres:17.7-bookworm" },
      streamlit: { enabled: false },
    });
    expect(Object.keys(s)).toEqual(["database", "sandbox", "api"]);
    expect(s.api.ports).toEqual(["127.0.0.1:9090:8000/tcp"]);
    expect(s.api.mem_limit).toBe("768m");
    expect(s.database.image).toBe("postgres:17.7-bookworm");
    expect(Object.keys(d.networks)).toEqual(["class-b"]);
  });

  it("keeps dollars of literal text out of Compose's interpolation", () => {
    expect(services.database.healthcheck.test[1]).toBe('pg_isready -h 127.0.0.1 -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"');
    expect(parse(composeYaml(document))).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe("npm run compose", () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["-r", "./scripts/ts-cache.js", "scripts/write-compose.ts", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      encoding: "utf8",
    });

  it("prints the policy summary line synth prints, suppressions counted", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-policy-"));
    const config = path.join(dir, "week.config.json");
    try {
      fs.writeFileSync(config, "{}");
      expect(run(["--check"], { WEEK_CONFIG: config }).stdout).toContain("policy compose: 6 rules checked, 0 findings, 0 suppressions\n");
      // Every finding the configuration could cause is refused by its validation first; the opt-in is a suppression per service.
      fs.writeFileSync(config, JSON.stringify({ network: { publishOnAllInterfaces: true } }));
      expect(run(["--check"], { WEEK_CONFIG: config }).stdout).toContain("policy compose: 6 rules checked, 0 findings, 4 suppressions\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("honours WEEK_CONFIG (--check: another configuration is another file, and nothing is written)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-config-"));
    const config = path.join(dir, "week.config.json");
    fs.writeFileSync(config, JSON.stringify({ api: { hostPort: 9191 } }));
    const before = fs.readFileSync(path.join(PROJECT_ROOT, "docker-compose.yml"), "utf8");
    const result = run(["--check"], { WEEK_CONFIG: config });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("docker-compose.yml differs from its rendering: run npm run compose");
    expect(fs.readFileSync(path.join(PROJECT_ROOT, "docker-compose.yml"), "utf8")).toBe(before);
    fs.writeFileSync(config, JSON.stringify({ api: { hostPort: 0 } }));
    const bad = run(["--check"], { WEEK_CONFIG: config });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("api.hostPort must be a whole number between 1 and 65535, got 0");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const composeBinary = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" });
const haveCompose = composeBinary.status === 0;
if (!haveCompose) console.warn("docker-compose is not installed: the docker-compose config tests are SKIPPED (.ci/run installs it)");

(haveCompose ? describe : describe.skip)(`docker-compose config (${haveCompose ? composeBinary.stdout.trim() : "absent"})`, () => {
  /** The project as a student has it: the Compose file, lambdas-src, a database.env. */
  function project(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-project-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "docker-compose.yml"), path.join(dir, "docker-compose.yml"));
    fs.symlinkSync(path.join(PROJECT_ROOT, "lambdas-src"), path.join(dir, "lambdas-src"));
    fs.writeFileSync(path.join(dir, "database.env"), "POSTGRES_USER=week\nPOSTGRES_PASSWORD=pw-from-the-users-file\nPOSTGRES_DB=week\n", { mode: 0o600 });
    return dir;
  }
  const config = (dir: string, args: string[], env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(JUPYTER_TOKEN|GIT_TOKEN|POSTGRES_)/.test(k)));
    return spawnSync("docker-compose", ["-p", "h4-compose-config", ...args, "config"], { cwd: dir, env: { ...clean, ...env }, encoding: "utf8" });
  };

  it("accepts the file with database.env and JUPYTER_TOKEN, and resolves the services as the stack runs them", () => {
    const dir = project();
    const result = config(dir, ["--env-file", "database.env"], { JUPYTER_TOKEN: "token-from-the-shell" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const resolved = parse(result.stdout) as { services: Record<string, Service> };
    expect(Object.keys(resolved.services).sort()).toEqual(["api", "database", "sandbox", "streamlit"]);
    expect(resolved.services.api.environment!.DATABASE_URL).toBe("postgresql://week:pw-from-the-users-file@database:5432/week");
    expect(resolved.services.database.environment).toMatchObject({ POSTGRES_PASSWORD: "pw-from-the-users-file" });
    expect(resolved.services.sandbox.environment).toMatchObject({ JUPYTER_TOKEN: "token-from-the-shell", GIT_TOKEN: "" });
    expect(resolved.services.api.ports).toEqual(["127.0.0.1:8080:8000/tcp"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["JUPYTER_TOKEN unset", ["--env-file", "database.env"], {}, "set JUPYTER_TOKEN to a long random value"],
    ["database.env not given to interpolation", [], { JUPYTER_TOKEN: "t" }, "POSTGRES_USER comes from database.env: run docker compose with --env-file database.env"],
  ])("refuses to start with %s, saying which variable and how", (_what, args, env, message) => {
    const dir = project();
    const result = config(dir, args as string[], env as Record<string, string>);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("pw-from-the-users-file");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
