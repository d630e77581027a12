import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { parseWeekConfig } from "../config/load";
import type { WeekConfigInput } from "../config/schema";
import { addWeekStacks } from "../stacks";
import { describeStack, documentOf, isSecret, resourcesOf, summaryOf, type Resource } from "../tools/review/describe";
import { containerOfTerraform, portFindings } from "../policies/container";
import { resources as documentResources } from "../policies/document";
import { secretSources } from "../policies/rule";
import { envSecretFindings } from "../policies/rules/secret-literals";
import { diffStacks, type StackDiff } from "../tools/review/diff";
import { renderPage } from "../tools/review/markdown";
import { readSynthOutput, synthCheckout, type JsonObject, type SynthStack } from "../tools/review/synth-output";

const ROOT = path.resolve(__dirname, "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "week-review-test-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let runs = 0;
const cache = new Map<string, SynthStack[]>();
/** Synthesises the app with a configuration, as `main.ts` does, and reads what it wrote. */
function synth(config: WeekConfigInput = {}): SynthStack[] {
  const key = JSON.stringify(config);
  const hit = cache.get(key);
  if (hit !== undefined) return structuredClone(hit);
  const outdir = path.join(work, `out-${runs++}`);
  const app = new App({ outdir });
  addWeekStacks(app, parseWeekConfig(config, "test configuration"));
  app.synth();
  const stacks = readSynthOutput(outdir);
  cache.set(key, stacks);
  return structuredClone(stacks);
}
const stackOf = (stacks: SynthStack[], name: string) => stacks.find((s) => s.name === name)!;
const diffOf = (name: string, before: WeekConfigInput, after: WeekConfigInput) => diffStacks(stackOf(synth(before), name), stackOf(synth(after), name));
const change = (diff: StackDiff, pathEnd: string) => diff.changes.find((c) => c.path.endsWith(pathEnd));
const kinds = (diff: StackDiff) => diff.alarms.map((a) => a.kind);

describe("npm run review: what a stack is", () => {
  const local = describeStack(stackOf(synth(), "local"));

  it("lists every published port with where it binds, loopback by default", () => {
    expect(local.ports.map((p) => [p.service, p.hostIp, p.hostPort, p.loopbackOnly])).toEqual([
      ["week-api", "127.0.0.1", 8080, true],
      ["week-database", "127.0.0.1", 5432, true],
      ["week-sandbox", "127.0.0.1", 8000, true],
      ["week-streamlit", "127.0.0.1", 8501, true],
    ]);
  });

  it("lists the volumes, who mounts them and their protection", () => {
    expect(local.stores.map((s) => [s.name, s.usedBy, s.protection])).toEqual([
      ["database-data", ["week-database"], "prevent_destroy"],
      ["workspace-data", ["week-sandbox"], "prevent_destroy"],
    ]);
  });

  it("names each secret and its source, never a value", () => {
    const byName = Object.fromEntries(local.secrets.map((s) => [s.name, s.source]));
    expect(byName.POSTGRES_PASSWORD).toMatch(/^database\.env, or generated at apply time/);
    expect(byName.JUPYTER_TOKEN).toMatch(/TF_VAR_jupyter_token.*generated at apply time/);
    expect(byName.GIT_TOKEN).toBe("variable git_token (TF_VAR_git_token)");
  });

  it("gives each built image its source hash, and each suppression its reason", () => {
    const page = renderPage(describeStack(stackOf(synth({ database: { protectVolume: false } }), "local")), { config: "test" });
    expect(page).toMatch(/built: `week-api:[0-9a-f]{12}`, source hash `[0-9a-f]{12}`/);
    expect(page).toMatch(/pulled: `postgres:17\.6-bookworm`/);
    expect(page).toMatch(/\| `WEEK-STATE-001` \| `local\/database\/data` \| database\.protectVolume is false/);
    expect(page).toContain("2 suppressions, 0 findings.");
  });
});

describe("npm run review: what a configuration change does", () => {
  it.each<[string, string, WeekConfigInput, WeekConfigInput, string[]]>([
    ["a changed host port replaces the container, loopback still", "local", {}, { database: { hostPort: 15432 } }, []],
    ["volume protection lifted", "local", {}, { database: { protectVolume: false } }, ["protection lifted", "protection lifted"]],
    ["ports opened on every interface", "local", {}, { network: { publishOnAllInterfaces: true } }, ["port opened", "port opened", "port opened", "port opened"]],
    ["Cloud SQL deletion protection lifted", "gcp", {}, { gcp: { deletionProtection: false } }, ["data at risk", "protection lifted", "protection lifted", "protection lifted"]],
    ["public access granted on Cloud Run", "gcp", {}, { gcp: { allowPublicAccess: true } }, ["public access"]],
    ["a Heroku region change re-creates the add-on with the data", "heroku", {}, { heroku: { region: "us" } }, ["data at risk"]],
    ["a memory change", "local", {}, { api: { memoryMiB: 1024 } }, []],
  ])("%s", (_name, stack, before, after, expected) => {
    expect(kinds(diffOf(stack, before, after))).toEqual(expected);
  });

  it("says a changed port forces replacement of the container, with old and new values", () => {
    const diff = diffOf("local", {}, { database: { hostPort: 15432 } });
    const container = change(diff, "database/service/container")!;
    expect(container.action).toBe("replaced");
    expect(container.attributes).toEqual([expect.objectContaining({ path: "ports[0].external", before: "5432", after: "15432", effect: "replaced" })]);
    expect(renderPage(diff.after, { config: "test" }, diff)).toContain("| `ports[0].external` | `5432` | `15432` | forces replacement |");
  });

  it("says memory is updated in place", () => {
    expect(change(diffOf("local", {}, { api: { memoryMiB: 1024 } }), "api/workload/service/container")!.action).toBe("updated in place");
  });

  it("says lifting prevent_destroy changes no real resource, and calls it out first", () => {
    const diff = diffOf("local", {}, { database: { protectVolume: false } });
    expect(change(diff, "database/data")!.action).toBe("no change to the real resource (Terraform settings only)");
    const page = renderPage(diff.after, { config: "test" }, diff);
    expect(page.indexOf("**protection lifted**")).toBeGreaterThan(0);
    expect(page.indexOf("**protection lifted**")).toBeLessThan(page.indexOf("## What changed"));
  });

  it("says a Cloud SQL region change replaces the instance and puts its data at risk", () => {
    const diff = diffOf("gcp", {}, { gcp: { region: "europe-west4" } });
    expect(change(diff, "database/instance")!.action).toBe("replaced");
    expect(diff.alarms.find((a) => a.kind === "data at risk")?.message).toMatch(/gcp\/database\/instance.*replaced.*`region`/);
  });

  it("says 'see plan' where the provider's behaviour is not known here", () => {
    const before = stackOf(synth(), "gcp");
    const after = structuredClone(before);
    const instances = (after.doc.resource as JsonObject).google_sql_database_instance as JsonObject;
    const instance = Object.values(instances)[0] as JsonObject;
    instance.database_version = "POSTGRES_17";
    const diff = diffStacks(before, after);
    expect(change(diff, "database/instance")!.action).toBe("update, or replacement: see plan");
    expect(kinds(diff)).toEqual(["data at risk"]);
  });

  it("calls out an output or a variable that stops being sensitive, and lists outputs added", () => {
    const before = stackOf(synth(), "local");
    const after = structuredClone(before);
    const outputs = after.doc.output as JsonObject;
    delete (outputs.database_password as JsonObject).sensitive;
    outputs.extra_url = { value: "http://127.0.0.1:9999" };
    delete ((after.doc.variable as JsonObject).git_token as JsonObject).sensitive;
    const diff = diffStacks(before, after);
    expect(diff.alarms.map((a) => [a.kind, a.address])).toEqual([
      ["secret exposed", "output.database_password"],
      ["secret exposed", "var.git_token"],
    ]);
    expect(diff.interface).toEqual(["output `extra_url` added", "output `database_password` no longer sensitive", "variable `git_token` no longer sensitive"]);
  });

  it("shows a changed secret as changed, without either value", () => {
    const before = stackOf(synth(), "local");
    const after = structuredClone(before);
    const containers = (after.doc.resource as JsonObject).docker_container as JsonObject;
    const db = Object.values(containers).find((c) => (c as JsonObject).name === "week-database") as JsonObject;
    const before_value = (db.env as string[]).find((e) => e.startsWith("POSTGRES_PASSWORD="))!;
    db.env = (db.env as string[]).map((e) => (e.startsWith("POSTGRES_PASSWORD=") ? "POSTGRES_PASSWORD=${var.jupyter_token}" : e));
    const diff = diffStacks(before, after);
    const page = renderPage(diff.after, { config: "test" }, diff);
    expect(page).toContain("| `env.POSTGRES_PASSWORD` | (secret) | changed, value not shown | forces replacement |");
    expect(page).not.toContain(before_value.slice("POSTGRES_PASSWORD=".length));
    expect(page).not.toContain("${var.jupyter_token}");
  });
});

describe("npm run review on the user's configuration (WEEK_CONFIG)", () => {
  it("compares WEEK_CONFIG with --base-config, writes review/<stack>.md with --out, and exits 2 with --fail-on-alarm", () => {
    const now = path.join(work, "teacher.json");
    const before = path.join(work, "before.json");
    fs.writeFileSync(now, JSON.stringify({ network: { publishOnAllInterfaces: true }, database: { protectVolume: false } }));
    fs.writeFileSync(before, "{}");
    const out = path.join(work, "pages");
    const result = spawnSync(process.execPath, ["-r", "./scripts/ts-cache.js", "scripts/review.ts", "--base-config", before, "--stack", "local", "--out", out, "--fail-on-alarm"], {
      cwd: ROOT,
      env: { ...process.env, WEEK_CONFIG: now },
      encoding: "utf8",
    });
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`wrote ${path.join(out, "local.md")} (6 destructive or exposing changes)\n`);
    expect(result.status).toBe(2);
    expect(fs.readdirSync(out)).toEqual(["local.md"]);
    const page = fs.readFileSync(path.join(out, "local.md"), "utf8");
    expect(page).toContain(`Configuration: \`${now}\`. Compared with: configuration \`${before}\`.`);
    expect(page.match(/^- \*\*port opened\*\*: `week-[a-z]+` publishes port \d+ on 0\.0\.0\.0/gm)).toHaveLength(4);
    expect(page.match(/^- \*\*protection lifted\*\*: `local\/(database\/data|sandbox\/workspace)`: `lifecycle\.prevent_destroy` is lifted/gm)).toHaveLength(2);
    expect(page).toContain("| `WEEK-DOCKER-002` | `local/api/workload/service/container` | network.publishOnAllInterfaces is true");
  }, 120000);
});

describe("npm run review when synth fails", () => {
  it("names the configuration and gives synth's reason on one line", () => {
    const bad = path.join(work, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ api: { hostPort: 0 } }));
    expect(() => synthCheckout({ cwd: ROOT, configFile: bad, outdir: path.join(work, "bad-out") })).toThrow(
      new RegExp(`^synth failed in ${ROOT} with ${bad}: .*is invalid:;? -? ?api\\.hostPort must be a whole number between 1 and 65535, got 0$`),
    );
  }, 60000);
});

describe("npm run review --base REF: a code change in git", () => {
  const repo = path.join(work, "repo");
  const run = (cmd: string, args: string[], cwd = repo) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString();

  beforeAll(() => {
    // A repository of this project's files (tracked and new, not ignored), node_modules linked.
    const files = run("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT).split("\0").filter((f) => f !== "" && fs.existsSync(path.join(ROOT, f)));
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(repo, f));
    }
    const git = (...args: string[]) => run("git", ["-c", "user.name=review test", "-c", "user.email=review@example.com", ...args]);
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "base");
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
    // A renamed construct id (the database volume) and a Python change that rebuilds the API image.
    const postgres = path.join(repo, "constructs/local/postgres-service.ts");
    const code = fs.readFileSync(postgres, "utf8");
    expect(code).toContain('new Volume(this, "data",');
    fs.writeFileSync(postgres, code.replace('new Volume(this, "data",', 'new Volume(this, "data_volume",'));
    fs.appendFileSync(path.join(repo, "lambdas-src/api/app/main.py"), "\n# a change a reviewer reads as Python\n");
    git("commit", "-qam", "rename the volume's construct id, touch the API");
  });

  it("calls out the renamed construct id first, and the rebuilt image and the container it replaces", () => {
    const page = run(process.execPath, ["-r", "./scripts/ts-cache.js", "scripts/review.ts", "--base", "HEAD~1", "--stack", "local"]);
    const destroys = page.slice(page.indexOf("## What a deploy would destroy or expose"), page.indexOf("## What changed"));
    expect(destroys).toMatch(/\*\*address changed\*\*: `local\/database\/data` became `local\/database\/data_volume`.*and its data is lost \(lifecycle\.prevent_destroy will stop the plan\)/);
    expect(page).toMatch(/\| `docker_image\.api_workload_image_[0-9A-F]+` \| `local\/api\/workload\/image` \| replaced, because its sources changed: source hash `[0-9a-f]{12}` → `[0-9a-f]{12}` \|/);
    expect(page).toMatch(/\| `docker_container\.api_workload_service_container_[0-9A-F]+` \| `local\/api\/workload\/service\/container` \| replaced, because it refers to `docker_image\.api_workload_image_[0-9A-F]+`, which is replaced \|/);
    expect(page).toMatch(/\| `docker_container\.database_service_container_[0-9A-F]+` \| `local\/database\/service\/container` \| replaced \|/);
    expect(page).toMatch(/\| `volumes\[0\]\.volume_name` \| `\$\{docker_volume\.database_data_[0-9A-F]+\.name\}` \| `\$\{docker_volume\.database_data_volume_[0-9A-F]+\.name\}` \| forces replacement \|/);
    expect(run("git", ["worktree", "list"]).trim().split("\n")).toHaveLength(1);
  }, 120000);

  it("refuses a base that is not a commit, naming it", () => {
    expect(() => run(process.execPath, ["-r", "./scripts/ts-cache.js", "scripts/review.ts", "--base", "no-such-ref"])).toThrow(/--base must name a git commit, got "no-such-ref"/);
  }, 60000);
});

describe("one reader of the synthesised Terraform, shared with the policy pack", () => {
  const GITHUB = `ghp_${"a1B2".repeat(9)}`;
  /** A document with one container whose env is `env` and whose ports bind `ips`. */
  const docWith = (env: string[], ips: Array<string | undefined> = []): JsonObject => ({
    variable: { pw: { sensitive: true } },
    resource: {
      random_password: { p: { length: 24 } },
      docker_container: {
        c: {
          "//": { metadata: { path: "local/c" } },
          name: "c",
          image: "busybox:1.37.0",
          env,
          ports: ips.map((ip, i): JsonObject => (ip === undefined ? { internal: 80 + i } : { internal: 80 + i, external: 8080 + i, ip })),
        },
      },
    },
  });

  const literals: Array<[string, string]> = [
    ["SQLALCHEMY_DATABASE_URI", "sqlite:///x.db"],
    ["DATABASE_URL", "postgresql://db:5432/week"],
    ["DB", "host=db password=hunter2"],
    ["X", GITHUB],
    ["CALLBACK", "https://app.example.com/cb#access_token=abc"],
    ["BYPASS_CACHE", "1"],
    ["PASSPORT_OFFICE", "paris"],
    ["PORT", "8000"],
    ["API_URL", "http://api:8000"],
  ];
  it.each(literals)("agrees with WEEK-SECRET-001 on a literal %s", (name, value) => {
    const doc = docWith([`${name}=${value}`]);
    const policyFlags = envSecretFindings("local/c", [[name, value]], secretSources(documentOf(doc))).length > 0;
    const [stack] = [{ name: "local", doc, annotations: [] } satisfies SynthStack];
    const description = describeStack(stack);
    const reviewHides = isSecret(doc, name, value);
    expect(reviewHides).toBe(policyFlags);
    // The page lists a container's secret entry exactly when the rules treat it as a secret.
    expect(description.secrets.some((s) => s.name === name)).toBe(policyFlags);
  });

  it("hides values that come from secret sources, which the rules allow", () => {
    const doc = docWith(["A=${random_password.p.result}", "B=${var.pw}"]);
    const sources = secretSources(documentOf(doc));
    expect(envSecretFindings("local/c", [["A", "${random_password.p.result}"], ["B", "${var.pw}"]], sources)).toEqual([]);
    expect(isSecret(doc, "A", "${random_password.p.result}")).toBe(true);
    expect(isSecret(doc, "B", "${var.pw}")).toBe(true);
  });

  it.each([["127.0.0.1"], ["::1"], ["0.0.0.0"], ["::"], ["10.0.0.1"], [undefined]])("agrees with WEEK-DOCKER-002 on a port bound to %s", (ip) => {
    const doc = docWith([], [ip]);
    const [binding] = describeStack({ name: "local", doc, annotations: [] }).ports;
    const container = documentResources(documentOf(doc), "docker_container")[0];
    expect(binding.loopbackOnly).toBe(portFindings(containerOfTerraform(container.path, container.config)).length === 0);
  });

  it("reads resources as the pack does: the same addresses and construct paths", () => {
    const doc = docWith(["PORT=8000"]);
    expect(resourcesOf(doc).map((r) => [r.address, r.path])).toEqual(
      documentResources(documentOf(doc)).map((r) => [`${r.type}.${r.name}`, r.path]).sort((a, b) => a[0].localeCompare(b[0])),
    );
  });
});

describe("the review of a Kubernetes stack", () => {
  test("says each manifest's kind, namespace, name, images and protection, and a Secret's keys without values", () => {
    const deployment: Resource = {
      address: "kubernetes_manifest.d",
      type: "kubernetes_manifest",
      name: "d",
      path: "classroom-k8s/students/alice/namespace/deployment-api",
      body: {
        manifest: { kind: "Deployment", metadata: { name: "api", namespace: "m2-alice" }, spec: { template: { spec: { containers: [{ name: "api", image: "r.example.org/m2/api@sha256:1" }] } } } },
        lifecycle: { prevent_destroy: true },
      },
    } as unknown as Resource;
    expect(summaryOf(deployment, [deployment])).toBe("Deployment `m2-alice/api`, image `r.example.org/m2/api@sha256:1` (prevent_destroy)");
    const secret = {
      address: "kubernetes_secret_v1.s",
      type: "kubernetes_secret_v1",
      name: "s",
      path: "classroom-k8s/students/alice/namespace/secret",
      body: { metadata: { name: "week-secrets", namespace: "m2-alice" }, data: { JUPYTER_TOKEN: "${local.t}", POSTGRES_PASSWORD: "${local.p}" } },
    } as unknown as Resource;
    const line = summaryOf(secret, [secret]);
    expect(line).toBe("Secret `m2-alice/week-secrets`, keys JUPYTER_TOKEN, POSTGRES_PASSWORD (values read at plan time)");
    expect(line).not.toContain("local.");
  });
});
