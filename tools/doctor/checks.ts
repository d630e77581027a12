/**
 * `npm run doctor`: the prerequisites of a deploy, checked on this machine. Each check gives one
 * line, and one fix when it fails. Everything it reads comes through `DoctorContext` (the
 * environment, HOME, PATH, the project folder), so that tests fake each condition.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as semver from "semver";
import { loadWeekConfig, WeekConfigError } from "../../config/load";
import type { WeekConfig } from "../../config/schema";
import { classroomChecks } from "../classroom/doctor";

export type Target = "local" | "heroku" | "gcp" | "classroom";
export const TARGETS: readonly Target[] = ["local", "heroku", "gcp", "classroom"];

export type Status = "ok" | "warn" | "fail";

export interface CheckResult {
  readonly name: string;
  readonly status: Status;
  readonly detail: string;
  /** What to do about it (a failure or a warning). */
  readonly fix?: string;
  /** A failure that stops a deploy: the doctor exits non-zero. */
  readonly blocking: boolean;
}

export interface DoctorContext {
  readonly env: NodeJS.ProcessEnv;
  /** The project folder (week.config.json, database.env, stacks/). */
  readonly root: string;
  readonly targets: readonly Target[];
  /** @default process.versions.node */
  readonly nodeVersion?: string;
}

/** The Terraform registry's discovery document; a short timeout, since a firewall drops rather than refuses. */
export const REGISTRY_URL = "https://registry.terraform.io/.well-known/terraform.json";
const REGISTRY_TIMEOUT_MS = 3000;
/** The floor the README gives for stacks that set no required_version. */
const TERRAFORM_FLOOR = ">= 1.5.0";
/** Room for the local stack's images (sandbox, API, Streamlit, postgres) and their build cache. */
const DEFAULT_MIN_FREE_GIB = 8;

const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail, blocking: false });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "warn", detail, fix, blocking: false });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "fail", detail, fix, blocking: true });

function run(ctx: DoctorContext, command: string, args: string[]): { ok: boolean; stdout: string; stderr: string; missing: boolean } {
  const result = spawnSync(command, args, { env: ctx.env, encoding: "utf8", timeout: 10000 });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
  return { ok: result.status === 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "", missing };
}

const firstLine = (s: string) => s.trim().split("\n")[0]?.slice(0, 160) ?? "";

export function checkNode(ctx: DoctorContext): CheckResult {
  const version = ctx.nodeVersion ?? process.versions.node;
  if (semver.satisfies(version, ">=20")) return ok("node", `v${version} (>= 20)`);
  return fail("node", `v${version} is older than 20`, "install Node.js 20 or later (https://nodejs.org, or nvm install 20)");
}

/** Terraform's version constraint language, as node-semver ranges (`~> 1.5` is >= 1.5, < 2). */
export function terraformRange(constraint: string): string {
  return constraint
    .split(",")
    .map((part) => {
      const m = /^\s*(>=|<=|!=|~>|=|>|<)?\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(part);
      if (m === null) throw new Error(`required_version must be a Terraform version constraint, got ${JSON.stringify(constraint)}`);
      const [, op = "=", version] = m;
      const parts = version.split(".").map(Number);
      const full = [...parts, 0, 0].slice(0, 3).join(".");
      if (op === "~>") {
        const upper = parts.length >= 3 ? `${parts[0]}.${parts[1] + 1}.0` : `${parts[0] + 1}.0.0`;
        return `>=${full} <${upper}`;
      }
      if (op === "!=") return `<${full} || >${full}`;
      return `${op === "=" ? "" : op}${full}`;
    })
    .join(" ");
}

/** Each asked stack's required_version, read from its code (`terraform.required_version` override). */
export function requiredVersions(ctx: DoctorContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const target of ctx.targets) {
    const file = path.join(ctx.root, "stacks", `${target}-stack.ts`);
    const code = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const m = /["']terraform\.required_version["']\s*,\s*["']([^"']+)["']/.exec(code);
    out[target] = m?.[1] ?? TERRAFORM_FLOOR;
  }
  return out;
}

export function checkTerraform(ctx: DoctorContext): CheckResult {
  const name = "terraform";
  const result = run(ctx, "terraform", ["version", "-json"]);
  if (result.missing) {
    return fail(name, "not on the PATH", "install Terraform 1.11 or later (https://developer.hashicorp.com/terraform/install) and put it on the PATH");
  }
  let version: string | undefined;
  try {
    version = (JSON.parse(result.stdout) as { terraform_version?: string }).terraform_version;
  } catch {
    version = /Terraform v(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
  }
  if (version === undefined || semver.valid(version) === null) {
    return fail(name, `terraform version answered ${JSON.stringify(firstLine(result.stdout + result.stderr))}`, "reinstall Terraform: `terraform version` must print its version");
  }
  const wanted = requiredVersions(ctx);
  const short = Object.entries(wanted).filter(([, constraint]) => !semver.satisfies(version!, terraformRange(constraint)));
  const all = Object.entries(wanted).map(([stack, c]) => `${stack} ${c}`).join(", ");
  if (short.length > 0) {
    return fail(name, `${version} does not satisfy ${short.map(([stack, c]) => `${stack} (${c})`).join(", ")}`, "install a newer Terraform (1.11 or later covers every stack)");
  }
  return ok(name, `${version} (needs ${all})`);
}

export async function checkRegistry(ctx: DoctorContext): Promise<CheckResult> {
  const url = ctx.env.WEEK_DOCTOR_REGISTRY_URL ?? REGISTRY_URL;
  const host = new URL(url).host;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
    if (response.ok) return ok("registry", `${host} answers`);
    return fail("registry", `${host} answered HTTP ${response.status}`, "terraform init downloads the providers from it: check a proxy (HTTPS_PROXY) or use a provider mirror (TF_CLI_CONFIG_FILE)");
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? `no answer in ${REGISTRY_TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.name ?? "unreachable");
    return fail("registry", `${host} unreachable (${why})`, "terraform init downloads the providers from it: check the network or proxy (HTTPS_PROXY), or use a provider mirror (TF_CLI_CONFIG_FILE)");
  }
}

export function checkDocker(ctx: DoctorContext): CheckResult & { rootDir?: string } {
  const name = "docker";
  const result = run(ctx, "docker", ["version", "--format", "{{.Server.Version}}"]);
  if (result.missing) return fail(name, "no docker command on the PATH", "install Docker (Docker Desktop, or docker.io / docker-ce on Linux)");
  if (!result.ok) {
    return fail(name, `the engine does not answer (${firstLine(result.stderr) || "no reply"})`, "start Docker (Docker Desktop, or `sudo systemctl start docker`), and check `docker info` works for your user");
  }
  const info = run(ctx, "docker", ["info", "--format", "{{.DockerRootDir}}"]);
  const rootDir = info.ok ? info.stdout.trim() : undefined;
  return { ...ok(name, `engine ${result.stdout.trim()} answers`), rootDir };
}

interface PortNeed {
  readonly setting: string;
  readonly port: number;
  readonly container: string;
}

function portsOf(config: WeekConfig): PortNeed[] {
  const prefix = config.network.name;
  const needs: PortNeed[] = [
    { setting: "sandbox.hostPort", port: config.sandbox.hostPort, container: `${prefix}-sandbox` },
    { setting: "database.hostPort", port: config.database.hostPort, container: `${prefix}-database` },
    { setting: "api.hostPort", port: config.api.hostPort, container: `${prefix}-api` },
  ];
  if (config.streamlit.enabled) needs.push({ setting: "streamlit.hostPort", port: config.streamlit.hostPort, container: `${prefix}-streamlit` });
  return needs;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function checkPorts(ctx: DoctorContext, config: WeekConfig, dockerAnswers: boolean): Promise<CheckResult> {
  const host = config.network.publishOnAllInterfaces ? "0.0.0.0" : "127.0.0.1";
  const published = dockerAnswers ? run(ctx, "docker", ["ps", "--format", "{{.Names}}\t{{.Ports}}"]).stdout : "";
  const busy: string[] = [];
  const ours: string[] = [];
  for (const need of portsOf(config)) {
    if (await portFree(host, need.port)) continue;
    const line = published.split("\n").find((l) => l.startsWith(`${need.container}\t`) && new RegExp(`:${need.port}->`).test(l));
    if (line !== undefined) ours.push(`${need.port} (${need.container}, deployed)`);
    else busy.push(`${need.setting} ${need.port}`);
  }
  const all = portsOf(config).map((n) => n.port).join(", ");
  if (busy.length > 0) {
    return fail("ports", `in use on ${host}: ${busy.join(", ")}`, `stop what listens there (\`ss -ltnp\` or \`lsof -i :PORT\` shows it), or set another port in week.config.json (${busy.map((b) => b.split(" ")[0]).join(", ")})`);
  }
  return ok("ports", `${all} free on ${host}${ours.length > 0 ? `, or held by the week itself: ${ours.join(", ")}` : ""}`);
}

export function checkDatabaseEnv(ctx: DoctorContext): CheckResult {
  const file = path.join(ctx.root, "database.env");
  if (!fs.existsSync(file)) return ok("database.env", "absent: the first deploy generates a password and writes it, mode 0600");
  const mode = fs.statSync(file).mode & 0o777;
  const text = fs.readFileSync(file, "utf8");
  const missing = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"].filter((key) => !new RegExp(`^[ \\t]*${key}[ \\t]*=`, "m").test(text));
  if (missing.length > 0) {
    return warn("database.env", `lacks ${missing.join(", ")}`, "add the missing lines (see database.env.example), or delete the file to have one generated");
  }
  if ((mode & 0o077) !== 0) {
    return warn("database.env", `mode ${mode.toString(8).padStart(4, "0")}: other users can read the password`, "chmod 600 database.env");
  }
  return ok("database.env", `present, mode ${mode.toString(8).padStart(4, "0")}`);
}

export function checkJupyterToken(ctx: DoctorContext): CheckResult {
  const token = ctx.env.TF_VAR_jupyter_token;
  if (token === undefined || token === "") return ok("jupyter token", "TF_VAR_jupyter_token not set: a token is generated at deploy (terraform output -raw jupyter_token)");
  if (token.length < 16) return warn("jupyter token", `TF_VAR_jupyter_token is set but short (${token.length} characters)`, "use 16 characters or more, or unset it to have one generated");
  return ok("jupyter token", `TF_VAR_jupyter_token set (${token.length} characters)`);
}

export function checkHeroku(ctx: DoctorContext, config: WeekConfig): CheckResult[] {
  const out: CheckResult[] = [];
  const home = ctx.env.HOME ?? "";
  const netrc = path.join(home, ".netrc");
  if (ctx.env.HEROKU_API_KEY !== undefined && ctx.env.HEROKU_API_KEY !== "") out.push(ok("heroku credentials", "HEROKU_API_KEY set"));
  else if (home !== "" && fs.existsSync(netrc) && /machine\s+api\.heroku\.com/.test(fs.readFileSync(netrc, "utf8"))) out.push(ok("heroku credentials", "~/.netrc has api.heroku.com"));
  else out.push(fail("heroku credentials", "neither HEROKU_API_KEY nor an api.heroku.com entry in ~/.netrc", 'export HEROKU_API_KEY="$(heroku auth:token)" (or run `heroku login`)'));
  const appName = config.heroku.appName;
  if (appName !== undefined) out.push(ok("heroku app name", `heroku.appName ${appName}`));
  else if (ctx.env.TF_VAR_heroku_app_name) out.push(ok("heroku app name", `TF_VAR_heroku_app_name ${ctx.env.TF_VAR_heroku_app_name}`));
  else out.push(warn("heroku app name", "neither heroku.appName nor TF_VAR_heroku_app_name: Terraform asks for it at deploy time", "set heroku.appName in week.config.json (a globally unique name), or export TF_VAR_heroku_app_name"));
  return out;
}

export function checkGoogle(ctx: DoctorContext, config: WeekConfig): CheckResult[] {
  const out: CheckResult[] = [];
  const home = ctx.env.HOME ?? "";
  const gcloudDir = ctx.env.CLOUDSDK_CONFIG ?? path.join(home, ".config", "gcloud");
  const adc = path.join(gcloudDir, "application_default_credentials.json");
  const keyFile = ctx.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile !== undefined && keyFile !== "") {
    out.push(fs.existsSync(keyFile) ? ok("google credentials", `GOOGLE_APPLICATION_CREDENTIALS (${keyFile})`) : fail("google credentials", `GOOGLE_APPLICATION_CREDENTIALS names a missing file: ${keyFile}`, "point it at your key file, or unset it and run `gcloud auth application-default login`"));
  } else if (ctx.env.GOOGLE_OAUTH_ACCESS_TOKEN) {
    out.push(ok("google credentials", "GOOGLE_OAUTH_ACCESS_TOKEN set"));
  } else if (home !== "" && fs.existsSync(adc)) {
    out.push(ok("google credentials", `application default credentials in ${adc.replace(home, "~")}`));
  } else {
    out.push(fail("google credentials", "no Application Default Credentials", "gcloud auth application-default login"));
  }
  const project = config.gcp.project ?? (ctx.env.TF_VAR_gcp_project || undefined);
  if (project !== undefined) out.push(ok("google project", project));
  else out.push(warn("google project", "neither gcp.project nor TF_VAR_gcp_project: Terraform asks for it at deploy time", "set gcp.project in week.config.json, or export TF_VAR_gcp_project=<project id>"));
  return out;
}

export function checkDisk(ctx: DoctorContext, where: string): CheckResult {
  const minGiB = Number(ctx.env.WEEK_DOCTOR_MIN_FREE_GIB ?? DEFAULT_MIN_FREE_GIB);
  let probe = where;
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const stats = fs.statfsSync(probe);
  const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
  const detail = `${freeGiB.toFixed(1)} GiB free on ${where} (images need about ${minGiB} GiB)`;
  if (freeGiB < minGiB) return fail("disk", detail, "free some space (`docker system df` shows what images and build cache take; remove what you no longer need)");
  return ok("disk", detail);
}

/** Every check the asked targets need, in order. */
export async function runChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkNode(ctx)];
  let config: WeekConfig | undefined;
  try {
    config = loadWeekConfig(ctx.env, ctx.root);
    results.push(ok("configuration", ctx.env.WEEK_CONFIG ?? (fs.existsSync(path.join(ctx.root, "week.config.json")) ? "week.config.json" : "defaults (no week.config.json)")));
  } catch (error) {
    if (!(error instanceof WeekConfigError)) throw error;
    results.push(fail("configuration", error.problems.join("; "), `fix ${error.source} (week.config.schema.json lists every setting)`));
  }
  results.push(checkTerraform(ctx));
  results.push(await checkRegistry(ctx));
  const needsDocker = ctx.targets.includes("local") || ctx.targets.includes("gcp") || ctx.targets.includes("classroom");
  let dockerRoot: string | undefined;
  let dockerAnswers = false;
  if (needsDocker) {
    const docker = checkDocker(ctx);
    dockerRoot = docker.rootDir;
    dockerAnswers = docker.status === "ok";
    const { rootDir: _unused, ...line } = docker;
    results.push(line);
  }
  if (ctx.targets.includes("local")) {
    if (config !== undefined) results.push(await checkPorts(ctx, config, dockerAnswers));
    results.push(checkDatabaseEnv(ctx));
    results.push(checkJupyterToken(ctx));
  }
  if (config !== undefined && ctx.targets.includes("heroku")) results.push(...checkHeroku(ctx, config));
  if (config !== undefined && ctx.targets.includes("gcp")) results.push(...checkGoogle(ctx, config));
  if (config !== undefined && ctx.targets.includes("classroom")) {
    results.push(...classroomChecks(config, ctx.root).map((c) => (c.ok ? ok(c.name, c.detail) : fail(c.name, c.detail, c.fix ?? ""))));
  }
  if (needsDocker) results.push(checkDisk(ctx, dockerRoot ?? ctx.root));
  return results;
}

/** `ok    docker: engine 27.5.1 answers`, and for a failure `FAIL  ports: ... -> fix: ...`. */
export function formatResult(r: CheckResult): string {
  const tag = r.status === "ok" ? "ok  " : r.status === "warn" ? "warn" : "FAIL";
  return `${tag}  ${r.name}: ${r.detail}${r.fix !== undefined ? ` -> fix: ${r.fix}` : ""}`;
}
