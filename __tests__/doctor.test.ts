import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { checkNode, formatResult, runChecks, terraformRange, type CheckResult, type Target } from "../tools/doctor/checks";

const ROOT = path.resolve(__dirname, "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "week-doctor-test-"));
let registry: http.Server;
let registryUrl = "";
const held: net.Server[] = [];

/** A free loopback port, found by binding port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A port this test holds open until the end. */
function holdPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port));
    held.push(s);
  });
}

beforeAll(async () => {
  registry = http.createServer((_req, res) => res.end('{"providers.v1":"/v1/providers/"}'));
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as net.AddressInfo).port}/.well-known/terraform.json`;
});
afterAll(async () => {
  await new Promise((resolve) => registry.close(resolve));
  for (const s of held) s.close();
  fs.rmSync(work, { recursive: true, force: true });
});

let n = 0;
interface Machine {
  terraform?: string | null;
  docker?: "up" | "down" | null;
  dockerPs?: string;
  files?: Record<string, { text: string; mode?: number }>;
  env?: Record<string, string>;
  config?: Record<string, unknown>;
  registry?: "up" | "down";
}

/** A fake machine: a project folder, a HOME, and a PATH holding only fake terraform and docker. */
async function machine(m: Machine = {}): Promise<{ env: NodeJS.ProcessEnv; root: string; home: string }> {
  const dir = path.join(work, `m${n++}`);
  const bin = path.join(dir, "bin");
  const root = path.join(dir, "project");
  const home = path.join(dir, "home");
  for (const d of [bin, root, home]) fs.mkdirSync(d, { recursive: true });
  fs.symlinkSync(path.join(ROOT, "stacks"), path.join(root, "stacks"));
  const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  if (m.terraform !== null) script("terraform", `echo '{"terraform_version":"${m.terraform ?? "1.11.4"}","platform":"linux_amd64"}'`);
  if (m.docker !== null) {
    const up = (m.docker ?? "up") === "up";
    script(
      "docker",
      up
        ? `case "$1" in version) echo 27.5.1;; info) echo "${root}";; ps) printf '%s\\n' "${m.dockerPs ?? ""}";; esac`
        : `echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1`,
    );
  }
  for (const [name, { text, mode }] of Object.entries(m.files ?? {})) {
    const file = name.startsWith("~/") ? path.join(home, name.slice(2)) : path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    if (mode !== undefined) fs.chmodSync(file, mode);
  }
  const ports = m.config ?? { sandbox: { hostPort: await freePort() }, database: { hostPort: await freePort() }, api: { hostPort: await freePort() }, streamlit: { hostPort: await freePort() } };
  fs.writeFileSync(path.join(root, "week.config.json"), JSON.stringify(ports));
  const env: NodeJS.ProcessEnv = {
    PATH: bin,
    HOME: home,
    WEEK_DOCTOR_REGISTRY_URL: m.registry === "down" ? `http://127.0.0.1:${await freePort()}/` : registryUrl,
    WEEK_DOCTOR_MIN_FREE_GIB: "0.001",
    ...m.env,
  };
  return { env, root, home };
}

async function check(m: Machine, targets: Target[] = ["local"]): Promise<Record<string, CheckResult>> {
  const { env, root } = await machine(m);
  const results = await runChecks({ env, root, targets });
  return Object.fromEntries(results.map((r) => [r.name, r]));
}

describe("npm run doctor: each condition, faked", () => {
  it("passes every check on a ready machine", async () => {
    const results = Object.values(await check({}));
    expect(results.map((r) => r.name)).toEqual(["node", "configuration", "terraform", "registry", "docker", "ports", "database.env", "jupyter token", "disk"]);
    expect(results.filter((r) => r.status !== "ok")).toEqual([]);
  });

  it("fails on a Node older than 20", () => {
    expect(checkNode({ env: {}, root: ROOT, targets: ["local"], nodeVersion: "18.19.0" })).toMatchObject({ status: "fail", blocking: true, detail: "v18.19.0 is older than 20" });
  });

  it.each<[string, Machine, Target[], string, RegExp]>([
    ["terraform missing", { terraform: null }, ["local"], "terraform", /^not on the PATH$/],
    ["terraform too old for the gcp stack", { terraform: "1.9.8" }, ["local", "gcp"], "terraform", /^1\.9\.8 does not satisfy gcp \(>= 1\.11\.0\)$/],
    ["registry unreachable", { registry: "down" }, ["local"], "registry", /^127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\)$/],
    ["docker not answering", { docker: "down" }, ["local"], "docker", /^the engine does not answer \(Cannot connect to the Docker daemon/],
    ["docker not installed", { docker: null }, ["local"], "docker", /^no docker command on the PATH$/],
    ["disk too small for the images", { env: { WEEK_DOCTOR_MIN_FREE_GIB: "1000000" } }, ["local"], "disk", /GiB free on .* \(images need about 1000000 GiB\)$/],
    ["no Heroku credentials", {}, ["heroku"], "heroku credentials", /^neither HEROKU_API_KEY nor an api\.heroku\.com entry in ~\/\.netrc$/],
    ["no Google credentials", {}, ["gcp"], "google credentials", /^no Application Default Credentials$/],
    ["a missing Google key file", { env: { GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json" } }, ["gcp"], "google credentials", /names a missing file: \/nonexistent\/key\.json$/],
    ["an invalid configuration", { config: { api: { hostPort: 0 } } }, ["local"], "configuration", /api\.hostPort must be a whole number between 1 and 65535, got 0/],
  ])("blocks on %s, with a fix", async (_name, m, targets, name, detail) => {
    const result = (await check(m, targets))[name];
    expect(result).toMatchObject({ status: "fail", blocking: true });
    expect(result.detail).toMatch(detail);
    expect(result.fix).toEqual(expect.any(String));
  });

  it.each<[string, Machine, Target[], string, RegExp]>([
    ["terraform recent enough for local only", { terraform: "1.9.8" }, ["local"], "terraform", /^1\.9\.8 \(needs local >= 1\.5\.0\)$/],
    ["HEROKU_API_KEY", { env: { HEROKU_API_KEY: "not-a-real-key" } }, ["heroku"], "heroku credentials", /^HEROKU_API_KEY set$/],
    ["~/.netrc from heroku login", { files: { "~/.netrc": { text: "machine api.heroku.com\n  login a@example.com\n  password x\n" } } }, ["heroku"], "heroku credentials", /^~\/\.netrc has api\.heroku\.com$/],
    ["ADC in ~/.config/gcloud", { files: { "~/.config/gcloud/application_default_credentials.json": { text: "{}" } } }, ["gcp"], "google credentials", /^application default credentials in ~\/\.config\/gcloud/],
    ["a project from TF_VAR_gcp_project", { env: { TF_VAR_gcp_project: "week-demo-123" } }, ["gcp"], "google project", /^week-demo-123$/],
    ["database.env absent", {}, ["local"], "database.env", /^absent: the first deploy generates/],
    ["database.env mode 0600", { files: { "database.env": { text: "POSTGRES_USER=a\nPOSTGRES_PASSWORD=b\nPOSTGRES_DB=c\n", mode: 0o600 } } }, ["local"], "database.env", /^present, mode 0600$/],
    ["no Jupyter token: generated", {}, ["local"], "jupyter token", /^TF_VAR_jupyter_token not set: a token is generated/],
  ])("accepts %s", async (_name, m, targets, name, detail) => {
    const result = (await check(m, targets))[name];
    expect(result.status).toBe("ok");
    expect(result.detail).toMatch(detail);
  });

  it.each<[string, Machine, string, RegExp]>([
    ["database.env readable by others", { files: { "database.env": { text: "POSTGRES_USER=a\nPOSTGRES_PASSWORD=b\nPOSTGRES_DB=c\n", mode: 0o644 } } }, "database.env", /^mode 0644: other users can read the password$/],
    ["database.env without a password", { files: { "database.env": { text: "POSTGRES_USER=a\nPOSTGRES_DB=c\n", mode: 0o600 } } }, "database.env", /^lacks POSTGRES_PASSWORD$/],
    ["a short Jupyter token", { env: { TF_VAR_jupyter_token: "abc123" } }, "jupyter token", /^TF_VAR_jupyter_token is set but short \(6 characters\)$/],
  ])("warns on %s without blocking", async (_name, m, name, detail) => {
    const result = (await check(m))[name];
    expect(result).toMatchObject({ status: "warn", blocking: false });
    expect(result.detail).toMatch(detail);
    expect(formatResult(result)).not.toContain("abc123");
  });

  it("blocks on a host port held by another program, naming the setting", async () => {
    const port = await holdPort();
    const result = (await check({ config: { api: { hostPort: port }, sandbox: { hostPort: await freePort() }, database: { hostPort: await freePort() }, streamlit: { hostPort: await freePort() } } })).ports;
    expect(result).toMatchObject({ status: "fail", blocking: true, detail: `in use on 127.0.0.1: api.hostPort ${port}` });
    expect(result.fix).toContain("api.hostPort");
  });

  it("accepts a host port held by the week's own deployed container", async () => {
    const port = await holdPort();
    const config = { api: { hostPort: port }, sandbox: { hostPort: await freePort() }, database: { hostPort: await freePort() }, streamlit: { hostPort: await freePort() } };
    const result = (await check({ config, dockerPs: `week-api\t127.0.0.1:${port}->8000/tcp` })).ports;
    expect(result.status).toBe("ok");
    expect(result.detail).toContain(`${port} (week-api, deployed)`);
  });

  it("reads Terraform constraints as Terraform does", () => {
    expect(terraformRange(">= 1.11.0")).toBe(">=1.11.0");
    expect(terraformRange("~> 1.5")).toBe(">=1.5.0 <2.0.0");
    expect(terraformRange("~> 1.5.2, != 1.5.4")).toBe(">=1.5.2 <1.6.0 <1.5.4 || >1.5.4");
    expect(() => terraformRange("latest")).toThrow('required_version must be a Terraform version constraint, got "latest"');
  });
});

describe("npm run doctor: the command", () => {
  const doctor = async (env: NodeJS.ProcessEnv, args: string[] = []) => {
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ["-r", "./scripts/ts-cache.js", "scripts/doctor.ts", ...args], { cwd: ROOT, env });
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout + e.stderr };
    }
  };

  it("prints one line per check, a fix on each failure, and exits 1 on a blocking one", async () => {
    const { env, root } = await machine({ docker: "down" });
    const { code, stdout } = await doctor({ ...env, WEEK_CONFIG: path.join(root, "week.config.json") }, ["local", "heroku"]);
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([
      expect.stringMatching(/^FAIL {2}docker: the engine does not answer .* -> fix: start Docker/),
      expect.stringMatching(/^FAIL {2}heroku credentials: .* -> fix: export HEROKU_API_KEY=/),
    ]);
    expect(lines.at(-1)).toMatch(/^doctor \(local, heroku\): 2 blocking problems, 1 warning$/);
  }, 60000);

  it("exits 0 when only warnings remain, and refuses an unknown stack", async () => {
    const { env, root } = await machine({});
    const ready = await doctor({ ...env, WEEK_CONFIG: path.join(root, "week.config.json") });
    expect(ready.stdout.trim().split("\n").at(-1)).toMatch(/^doctor \(local\): ready/);
    expect(ready.code).toBe(0);
    const wrong = await doctor(env, ["aws"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("value 'aws' is invalid for argument 'stacks'. Allowed choices are local, heroku, gcp, classroom.");
  }, 60000);
});
