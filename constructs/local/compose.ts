/**
 * The course's `docker-compose.yml`, rendered from the same service descriptions as the local
 * stack's Docker resources (see local-service.ts). Small functions, one per part of a service;
 * the YAML is written by the `yaml` library, never by string templates.
 *
 * Valid for Docker Compose v2 (`docker compose`) and Debian's docker-compose 1.29 (the Compose
 * Specification, no `version:` key).
 */
import * as path from "path";
import type { IConstruct } from "constructs";
import { Document } from "yaml";
import { LOG_DRIVER, LOG_OPTIONS, RESTART_POLICY, type EnvPart, type LocalService, type ServiceEnv, type ServiceHealthcheck } from "./local-service";
import { ServiceContainer } from "./service-container";

export type ComposeService = Record<string, unknown>;

export interface ComposeDocument {
  services: Record<string, ComposeService>;
  networks: Record<string, Record<string, unknown>>;
  volumes: Record<string, Record<string, unknown>>;
}

export interface ComposeOptions {
  /** Folder the Compose file is written in; paths are made relative to it. */
  readonly root: string;
  /** Key of the week's one network. @default week */
  readonly network?: string;
}

/** A file that `npm run compose` writes beside the Compose file (a rendered Dockerfile). */
export interface RenderedFile {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
}

/** Compose reads `$` as the start of a variable: literal text doubles it. */
export function escapeDollars(text: string): string {
  return text.replace(/\$/g, "$$$$");
}

/** A path relative to the Compose file, in the `./x` form Compose documents. */
function relativePath(root: string, target: string): string {
  const rel = path.relative(root, target).split(path.sep).join("/");
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new Error(`compose: ${target} is outside the project folder ${root}, got ${JSON.stringify(rel)}`);
  }
  return rel === "" ? "." : `./${rel}`;
}

/** `${NAME:?message}` for a required value, `${NAME:-}` for an optional one. */
function composePart(part: EnvPart): string {
  if (typeof part === "string") return escapeDollars(part);
  const { variable, required } = part.value;
  if (required === undefined) return `\${${variable}:-}`;
  if (/[}$]/.test(required)) throw new Error(`compose: the message of ${variable} must not hold } or $, got ${JSON.stringify(required)}`);
  return `\${${variable}:?${required}}`;
}

export function composeEnvValue(env: ServiceEnv): string {
  return env.parts.map(composePart).join("");
}

function composeImage(service: LocalService, root: string): ComposeService {
  const { pull, build } = service.image;
  if (build !== undefined) return { build: { context: relativePath(root, build.context), dockerfile: build.dockerfile } };
  if (pull !== undefined) return { image: pull };
  throw new Error(`compose: service ${service.name} has an image that is neither pulled nor built`);
}

function composeEnvironment(service: LocalService): ComposeService {
  const out: ComposeService = {};
  if (service.envFile !== undefined) out.env_file = [service.envFile.path];
  if (service.env !== undefined && service.env.length > 0) {
    out.environment = Object.fromEntries(service.env.map((e) => [e.name, composeEnvValue(e)]));
  }
  return out;
}

/**
 * `127.0.0.1:8080:8000/tcp`: the short form, because docker-compose 1.29's schema has no
 * `host_ip` in the long form (its ports object allows mode, target, published, protocol only),
 * and a long form without it would bind every interface.
 */
function composePorts(service: LocalService): ComposeService {
  if (service.ports.length === 0 && service.expose !== undefined) return { expose: service.expose.map(String) };
  return { ports: service.ports.map((p) => `${p.hostIp}:${p.host}:${p.container}/tcp`) };
}

function composeVolumes(service: LocalService, root: string): ComposeService {
  const mounts = [
    ...(service.volumes ?? []).map((v) => ({ type: "volume", source: v.name, target: v.target })),
    ...(service.files ?? []).map((f) => ({ type: "bind", source: relativePath(root, f.source), target: f.target, read_only: true })),
    ...(service.binds ?? []).map((b) => ({ type: "bind", source: b.source, target: b.target, read_only: true })),
  ];
  return mounts.length > 0 ? { volumes: mounts } : {};
}

function composeHealthcheck(h: ServiceHealthcheck): ComposeService {
  return {
    healthcheck: {
      test: h.test.map(escapeDollars),
      interval: h.interval,
      timeout: h.timeout,
      retries: h.retries,
      start_period: h.startPeriod,
    },
  };
}

function composeDependsOn(service: LocalService): ComposeService {
  const deps = service.dependsOn ?? [];
  return deps.length > 0 ? { depends_on: Object.fromEntries(deps.map((d) => [d, { condition: "service_healthy" }])) } : {};
}

/** One service of the Compose file. */
export function composeService(
  service: LocalService,
  options: ComposeOptions,
  suppressions: ReadonlyArray<{ readonly ruleId: string; readonly reason: string }> = [],
): ComposeService {
  return {
    ...composeImage(service, options.root),
    hostname: service.name,
    restart: RESTART_POLICY,
    mem_limit: `${service.memoryMiB}m`,
    ...(service.cpus === undefined ? {} : { cpus: service.cpus }),
    ...(service.labels === undefined ? {} : { labels: { ...service.labels } }),
    ...composeEnvironment(service),
    ...composePorts(service),
    ...composeVolumes(service, options.root),
    ...composeHealthcheck(service.healthcheck),
    logging: { driver: LOG_DRIVER, options: { ...LOG_OPTIONS } },
    networks: { [options.network ?? "week"]: { aliases: [service.name] } },
    ...composeDependsOn(service),
    ...(suppressions.length > 0 ? { "x-week-suppress": suppressions.map((s) => ({ rule: s.ruleId, reason: s.reason })) } : {}),
  };
}

/** The local services of a construct tree (a LocalStack), in the order the stack adds them. */
export function localServices(scope: IConstruct): ServiceContainer[] {
  return scope.node.findAll().filter((c): c is ServiceContainer => c instanceof ServiceContainer);
}

/** The Compose document of the week: every local service, one network, the named volumes. */
export function composeDocument(services: readonly ServiceContainer[], options: ComposeOptions): ComposeDocument {
  const network = options.network ?? "week";
  const names = new Set(services.map((s) => s.description.name));
  for (const s of services) {
    for (const dep of s.description.dependsOn ?? []) {
      if (!names.has(dep)) throw new Error(`compose: service ${s.description.name} depends on ${dep}, which is not rendered`);
    }
  }
  const volumes: Record<string, Record<string, unknown>> = {};
  for (const s of services) for (const v of s.description.volumes ?? []) volumes[v.name] = { labels: { course: "week" } };
  return {
    services: Object.fromEntries(services.map((s) => [s.description.name, composeService(s.description, { ...options, network }, s.suppressions)])),
    networks: { [network]: { driver: "bridge", labels: { course: "week" } } },
    volumes,
  };
}

/** Dockerfiles rendered from props that Compose builds: written where the service builds. */
export function renderedDockerfiles(services: readonly ServiceContainer[]): RenderedFile[] {
  return services.flatMap((s) => {
    const build = s.description.image.build;
    return build?.rendered === undefined ? [] : [{ path: path.join(build.context, build.dockerfile), content: build.rendered }];
  });
}

const HEADER = [
  " The course's docker-compose.yml (TP1, TP5): the week's four services, rendered by",
  " `npm run compose` from the same constructs as `npx cdktf deploy local` (constructs/local/).",
  " Edit the constructs or week.config.json, never this file: a test fails when they drift.",
  "",
  " No secret is written here. Before the first start (README, section Compose):",
  "   npm run database-env                # or: cp database.env.example database.env, then edit it",
  "   export JUPYTER_TOKEN=<a long random value>",
  "   docker compose --env-file database.env up -d --build",
].join("\n");

/** The Compose file's text. */
export function composeYaml(document: ComposeDocument): string {
  const doc = new Document(document);
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}
