/**
 * The policy pack's checks of the Compose rendering (docker-compose.yml), with the same rule ids
 * and meaning as the Docker provider's rules where they apply. A check reads the Compose
 * document as plain data (what `docker compose config` would read), so a hand-edited or
 * foreign file is judged the same way as a rendered one.
 *
 * Suppression, as for resources: next to the service, naming the rule and giving a reason,
 * `x-week-suppress: [{ rule: WEEK-DOCKER-002, reason: ... }]` (the renderer writes it for the
 * configuration's opt-ins).
 */
import { SECRET_NAME } from "./rule";

export interface ComposeFinding {
  readonly ruleId: string;
  /** Where: `services.api.ports[0]`. */
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

export interface ComposeRule {
  readonly id: string;
  readonly statement: string;
  /** Findings for one service (`name`: its key under `services`). */
  check(name: string, service: Record<string, unknown>): Omit<ComposeFinding, "ruleId">[];
}

type Service = Record<string, unknown>;

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

/** `name:tag` other than latest, or `@sha256:...`; a registry port is not a tag. */
export function isPinnedImage(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== "" && tag !== "latest" && !tag.includes("$");
}

export const composePinnedImage: ComposeRule = {
  id: "WEEK-DOCKER-001",
  statement: "Every image is pinned to a tag other than latest, or to a digest.",
  check(name, service) {
    const image = service.image;
    if (image === undefined) {
      return service.build === undefined
        ? [{ path: `services.${name}`, message: `service ${name} has neither image nor build`, fix: "give a pinned image or a build" }]
        : [];
    }
    if (service.build !== undefined) return []; // the name of a built image, not something pulled
    if (typeof image === "string" && isPinnedImage(image)) return [];
    return [{ path: `services.${name}.image`, message: `service ${name} pulls an unpinned image, got ${show(image)}`, fix: "pin a tag other than latest (postgres:17.6-bookworm) or a digest" }];
  },
};

/** Host IP of a port, short (`127.0.0.1:8000:8000`) or long form; undefined: every interface. */
function hostIp(port: unknown): string | undefined {
  if (typeof port === "number") return undefined;
  if (typeof port === "string") {
    const bracketed = /^\[([^\]]+)\]:/.exec(port);
    if (bracketed) return bracketed[1];
    const parts = port.split(":");
    return parts.length >= 3 ? parts.slice(0, parts.length - 2).join(":") : undefined;
  }
  if (typeof port === "object" && port !== null) {
    const ip = (port as Record<string, unknown>).host_ip;
    return typeof ip === "string" && ip !== "" ? ip : undefined;
  }
  return undefined;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export const composeLoopbackPorts: ComposeRule = {
  id: "WEEK-DOCKER-002",
  statement: "Published host ports bind to 127.0.0.1 unless network.publishOnAllInterfaces opens them.",
  check(name, service) {
    return asList(service.ports).flatMap((port, i) => {
      const ip = hostIp(port);
      if (ip !== undefined && LOOPBACK.has(ip)) return [];
      return [{
        path: `services.${name}.ports[${i}]`,
        message: `service ${name} publishes a port on ${ip ?? "every interface"}, got ${show(port)}`,
        fix: "publish on loopback: long form with host_ip: 127.0.0.1 (or set network.publishOnAllInterfaces on purpose)",
      }];
    });
  },
};

const RESTARTS = new Set(["always", "unless-stopped", "on-failure"]);

export const composeContainerLimits: ComposeRule = {
  id: "WEEK-DOCKER-003",
  statement: "Every container has a healthcheck, a memory limit and a restart policy.",
  check(name, service) {
    const out: Omit<ComposeFinding, "ruleId">[] = [];
    const health = service.healthcheck as Record<string, unknown> | undefined;
    const test = health?.test;
    const testList = asList(test);
    if (health === undefined || health.disable === true || testList.length === 0 || testList[0] === "NONE") {
      out.push({ path: `services.${name}.healthcheck`, message: `service ${name} has no healthcheck, got ${show(health)}`, fix: "add a healthcheck with a test" });
    }
    const deployMemory = ((service.deploy as Service | undefined)?.resources as Service | undefined)?.limits as Service | undefined;
    if (service.mem_limit === undefined && deployMemory?.memory === undefined) {
      out.push({ path: `services.${name}.mem_limit`, message: `service ${name} has no memory limit`, fix: "set mem_limit (512m)" });
    }
    const restart = service.restart;
    const restartOk = typeof restart === "string" && (RESTARTS.has(restart) || /^on-failure:\d+$/.test(restart));
    if (!restartOk) {
      out.push({ path: `services.${name}.restart`, message: `service ${name} has no restart policy, got ${show(restart)}`, fix: "set restart: unless-stopped" });
    }
    return out;
  },
};

const DOCKER_SOCKET = /(^|\/)docker\.sock$/;

/** The host side of a volume entry, short (`/a:/b:ro`) or long form. */
function volumeSource(volume: unknown): string | undefined {
  if (typeof volume === "string") return volume.split(":")[0];
  if (typeof volume === "object" && volume !== null) {
    const source = (volume as Record<string, unknown>).source;
    return typeof source === "string" ? source : undefined;
  }
  return undefined;
}

export const composeNoHostControl: ComposeRule = {
  id: "WEEK-DOCKER-004",
  statement: "No container is privileged or has the Docker socket mounted (either gives it the host).",
  check(name, service) {
    const out: Omit<ComposeFinding, "ruleId">[] = [];
    if (service.privileged === true || service.privileged === "true") {
      out.push({ path: `services.${name}.privileged`, message: `service ${name} is privileged`, fix: "remove privileged" });
    }
    asList(service.volumes).forEach((v, i) => {
      const source = volumeSource(v);
      if (source !== undefined && (DOCKER_SOCKET.test(source) || source === "/var/run/docker.sock" || source === "/run/docker.sock")) {
        out.push({ path: `services.${name}.volumes[${i}]`, message: `service ${name} mounts the Docker socket, got ${show(v)}`, fix: "never give a container the Docker socket" });
      }
    });
    return out;
  },
};

/** Environment as name -> value, from the map or the list form. */
function environmentOf(service: Service): Array<[string, unknown]> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return env.map((item) => {
      const text = String(item);
      const eq = text.indexOf("=");
      return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
    });
  }
  if (typeof env === "object" && env !== null) return Object.entries(env);
  return [];
}

const VARIABLE = "\u0001";

/**
 * A Compose value with each variable replaced by a marker, and a default (`${X:-text}`) by its
 * text, which is literal; `$$` is a literal dollar.
 */
function withMarkers(value: string): string {
  return value
    .replace(/\$\$/g, "$")
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?[-?])([^}]*))?\}/g, (_m, sep: string | undefined, rest: string | undefined) =>
      sep !== undefined && sep.endsWith("-") ? (rest ?? "") : VARIABLE,
    )
    .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, VARIABLE);
}

function literalText(marked: string): string {
  return marked.split(VARIABLE).join("");
}

/** A URL with a password written in it (`scheme://user:password@host`), variables aside. */
function literalUrlPassword(marked: string): boolean {
  const m = /:\/\/([^/@\s]*)@/.exec(marked);
  if (m === null) return false;
  const colon = m[1].indexOf(":");
  return colon >= 0 && literalText(m[1].slice(colon + 1)) !== "";
}

export const composeSecretLiterals: ComposeRule = {
  id: "WEEK-SECRET-001",
  statement: "Secrets are never literal values in environment variables.",
  check(name, service) {
    return environmentOf(service).flatMap(([key, raw]) => {
      if (raw === undefined || raw === null) return []; // taken from the shell at run time
      const marked = withMarkers(String(raw));
      const where = `services.${name}.environment.${key}`;
      if (SECRET_NAME.test(key) && !/URL$/i.test(key) && literalText(marked) !== "") {
        return [{ path: where, message: `service ${name} sets ${key} to a literal value`, fix: `take it from the environment: ${key}: \${${key}:?set ${key}}` }];
      }
      if (literalUrlPassword(marked)) {
        return [{ path: where, message: `service ${name} writes a password into the URL in ${key}`, fix: "put the password in a variable (${POSTGRES_PASSWORD:?...}) or an env_file" }];
      }
      return [];
    });
  },
};

export const COMPOSE_RULES: readonly ComposeRule[] = [
  composePinnedImage,
  composeLoopbackPorts,
  composeContainerLimits,
  composeNoHostControl,
  composeSecretLiterals,
];

/** Rules a service waives with `x-week-suppress`, each with a reason. */
function suppressedBy(service: Service): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of asList(service["x-week-suppress"])) {
    const e = entry as Record<string, unknown>;
    if (typeof e.rule === "string" && typeof e.reason === "string" && e.reason.trim() !== "") out.set(e.rule, e.reason);
  }
  return out;
}

export interface ComposeReport {
  readonly findings: ComposeFinding[];
  readonly suppressed: ComposeFinding[];
  readonly rulesChecked: number;
}

/** Judges every service of a Compose document. */
export function checkCompose(document: unknown, rules: readonly ComposeRule[] = COMPOSE_RULES): ComposeReport {
  const services = ((document as Record<string, unknown> | null)?.services ?? {}) as Record<string, Service>;
  const findings: ComposeFinding[] = [];
  const suppressed: ComposeFinding[] = [];
  for (const [name, service] of Object.entries(services)) {
    const waived = suppressedBy(service ?? {});
    for (const rule of rules) {
      for (const f of rule.check(name, service ?? {})) {
        (waived.has(rule.id) ? suppressed : findings).push({ ruleId: rule.id, ...f });
      }
    }
  }
  return { findings, suppressed, rulesChecked: rules.length };
}

/** One line per finding: rule id, where, what, how to fix. */
export function formatComposeFinding(f: ComposeFinding): string {
  return `${f.ruleId} ${f.path}: ${f.message} (fix: ${f.fix})`;
}
