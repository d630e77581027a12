/**
 * A container as the rules see it, whatever document describes it: a Terraform
 * `docker_container` (`containerOfTerraform`) or a Compose service (`containerOfCompose`, where
 * `$VAR` interpolation counts as an expression, see `composeValue`). Each field keeps its raw value; the checks
 * (`hostControlFindings`, `portFindings`, `limitsFindings`, and `envSecretFindings` in
 * rules/secret-literals.ts) read them deny-by-default: an expression is unknown, hence a finding.
 * The Compose rules (compose.ts) run these same checks under the Terraform rules' ids, through
 * `judgeDocument`.
 */
import * as path from "path";
import type { Json } from "./document";
import { userProblem } from "./user-spec";
import { blocksOf, boolOf, isExpression, listOf, numberOf, show, stringOf } from "./value";

export interface ContainerSpec {
  /** Where the container is: its construct path, or the Compose service's place. */
  readonly path: string;
  readonly image?: unknown;
  readonly privileged?: unknown;
  /** The user the container runs as, overriding the image's USER (undefined: the image's). */
  readonly user?: unknown;
  readonly networkMode?: unknown;
  readonly pidMode?: unknown;
  readonly ipcMode?: unknown;
  readonly usernsMode?: unknown;
  readonly cgroupnsMode?: unknown;
  /** Capabilities added: a list, or an expression. */
  readonly capAdd?: unknown;
  /** Devices mapped from the host: a list of anything, or an expression. */
  readonly devices?: unknown;
  /** Host paths bind-mounted (`undefined` for named volumes is dropped by the adapter); an expression stays. */
  readonly hostPaths?: unknown[];
  readonly securityOpts?: unknown;
  /** Other containers whose volumes this one mounts (`volumes_from`, `volumes.from_container`): a list, or an expression. */
  readonly volumesFrom?: unknown[];
  /** Options of mounts that change what a mount reaches (bind propagation, a volume's driver and its options), as written. */
  readonly mountOptions?: Array<{ readonly what: string; readonly value: unknown }>;
  /** `[name, value]` pairs, or an expression for the whole environment. */
  readonly env?: Array<[string, unknown]> | string;
  /** Published ports: host port and host address; an expression for the whole list. */
  readonly ports?: Array<{ external?: unknown; ip?: unknown }> | string;
  readonly memoryMiB?: unknown;
  readonly restart?: unknown;
  /** The healthcheck's test (a list such as `["CMD", ...]`), undefined when there is none. */
  readonly healthcheck?: unknown;
  /** Fields generated at plan time (Terraform `dynamic` blocks): their content is unknown. */
  readonly dynamic?: string[];
}

export type ContainerFinding = { readonly path: string; readonly message: string; readonly fix: string };

/** A `docker_container` resource of the kreuzwerker/docker provider as a ContainerSpec. */
export function containerOfTerraform(pathOf: string, config: Json): ContainerSpec {
  const volumes = blocksOf(config.volumes);
  const mounts = blocksOf(config.mounts);
  const hostPaths: unknown[] = [];
  if (!volumes.known) hostPaths.push(volumes.raw);
  else for (const v of volumes.value) if (v.host_path !== undefined) hostPaths.push(v.host_path);
  const volumesFrom: unknown[] = [];
  if (volumes.known) for (const v of volumes.value) if (v.from_container !== undefined) volumesFrom.push(v.from_container);
  const mountOptions: Array<{ what: string; value: unknown }> = [];
  if (!mounts.known) hostPaths.push(mounts.raw);
  else {
    for (const m of mounts.value) {
      if (m.type !== "volume" && m.type !== "tmpfs") hostPaths.push(m.source ?? "<no source>");
      if (m.bind_options !== undefined) mountOptions.push({ what: "bind_options", value: m.bind_options });
      if (m.volume_options !== undefined) mountOptions.push({ what: "volume_options", value: m.volume_options });
    }
  }
  const capabilities = blocksOf(config.capabilities);
  const capAdd = capabilities.known ? capabilities.value.flatMap((c) => (Array.isArray(c.add) ? c.add : c.add === undefined ? [] : [c.add])) : capabilities.raw;
  const env = listOf(config.env);
  const ports = blocksOf(config.ports);
  const healthcheck = blocksOf(config.healthcheck);
  return {
    path: pathOf,
    image: config.image,
    privileged: config.privileged,
    user: config.user,
    networkMode: config.network_mode,
    pidMode: config.pid_mode,
    ipcMode: config.ipc_mode,
    usernsMode: config.userns_mode,
    cgroupnsMode: config.cgroupns_mode,
    capAdd,
    devices: config.devices,
    hostPaths,
    securityOpts: config.security_opts,
    volumesFrom,
    mountOptions,
    env: env.known
      ? env.value.map((entry): [string, unknown] => {
          if (typeof entry !== "string") return ["<expression>", entry];
          const at = entry.indexOf("=");
          const name = at < 0 ? entry : entry.slice(0, at);
          // A name that is itself an expression could be any variable: the whole entry is the value to judge.
          if (isExpression(name)) return ["<expression>", entry];
          return at < 0 ? [entry, undefined] : [name, entry.slice(at + 1)];
        })
      : String(env.raw),
    ports: ports.known ? ports.value.map((p) => ({ external: p.external, ip: p.ip })) : String(ports.raw),
    memoryMiB: config.memory,
    restart: config.restart,
    healthcheck: healthcheck.known ? healthcheck.value[0]?.test : healthcheck.raw,
    dynamic: Object.keys((config.dynamic ?? {}) as Json),
  };
}

/** Host folders a container must not see: the host's root, its configuration, kernel interfaces, devices, Docker's state and socket. */
const HOST_ONLY = ["/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/usr", "/bin", "/sbin", "/lib", "/lib64"];
const HOST_EXACT = ["/", "/var", "/home", "/var/lib", "/Users", "/mnt", "/media", "/srv", "/opt", "/tmp"];
const SOCKET = /(^|\/)(docker|containerd|podman|crio|cri-dockerd)\.sock$/;

/** Why a bind-mounted host path gives the container control of the host, or undefined. */
export function dangerousHostPath(source: unknown): string | undefined {
  if (typeof source !== "string" || isExpression(source)) return `the host path ${show(source)} is an expression the rule cannot check`;
  if (SOCKET.test(source)) return `it mounts the container engine's socket ${source}`;
  const credentials = /(^|\/)(\.ssh|\.aws|\.docker|\.kube|\.gnupg|\.azure|\.config\/gcloud|\.netrc|\.pgpass|\.git-credentials)(\/|$)/.exec(source);
  if (credentials !== null) return `it mounts ${source}, which holds credentials (${credentials[2]})`;
  if (/^~[^/]*\/?$/.test(source)) return `it mounts a whole home folder (${source})`;
  if (!source.startsWith("/")) return undefined; // a named volume or a path relative to the project
  const normalised = path.posix.normalize(source).replace(/\/+$/, "") || "/";
  if (HOST_EXACT.includes(normalised)) return `it mounts the host's ${normalised}`;
  if (/^\/(home|Users)\/[^/]+$/.test(normalised)) return `it mounts a whole home folder (${normalised})`;
  const under = HOST_ONLY.find((p) => normalised === p || normalised.startsWith(`${p}/`));
  return under === undefined ? undefined : `it mounts ${normalised} from the host (${under} belongs to the host)`;
}

const SAFE_SECURITY_OPT = /^no-new-privileges([:=]true)?$/i;

/** Why a mount's options reach beyond a plain named volume or bind, or undefined. */
function mountOptionProblem(what: string, value: unknown): string | undefined {
  const blocks = blocksOf(value);
  if (!blocks.known) return `${what} is ${show(value)}, an expression the rule cannot check`;
  for (const b of blocks.value) {
    for (const [key, v] of Object.entries(b)) {
      if (key === "propagation" && typeof v === "string" && /^r?private$/.test(v)) continue;
      if (key === "no_copy" || key === "nocopy" || key === "subpath" || key === "read_only" || key === "create_host_path") continue;
      if ((key === "driver_name" || key === "driver") && (v === "local" || v === undefined)) continue;
      if (key === "labels") continue;
      return `the mount's ${what}.${key} is ${show(v)}: a driver option or propagation can bind-mount or share host paths`;
    }
  }
  return undefined;
}

/**
 * Why a named volume's driver reaches beyond Docker's own storage, or undefined: only the
 * local driver without options is admitted (`type=none,o=bind,device=/` binds the host's root;
 * nfs/cifs options mount remote shares).
 */
export function volumeDriverProblem(driver: unknown, driverOpts: unknown): string | undefined {
  const name = stringOf(driver);
  if (!name.known) return `the volume driver ${show(driver)} is an expression the rule cannot check`;
  if (name.value !== undefined && name.value !== "local") return `the volume driver ${name.value} is not Docker's local driver`;
  if (driverOpts === undefined || driverOpts === null) return undefined;
  if (typeof driverOpts !== "object") return `driver_opts is ${show(driverOpts)}, an expression the rule cannot check`;
  const opts = driverOpts as Json;
  if (Object.keys(opts).length === 0) return undefined;
  const device = opts.device;
  return device !== undefined ? `the volume's driver options mount ${show(device)} from the host (${show(opts)})` : `the volume has driver options ${show(opts)}, which can mount host paths or remote shares`;
}

const HOST_CONTROL_FIX = "drop it: give the container only named volumes, the default network and namespaces, and no added capabilities or devices";

/** WEEK-DOCKER-004's check: nothing that hands the container the host. */
export function hostControlFindings(c: ContainerSpec): ContainerFinding[] {
  const findings: ContainerFinding[] = [];
  const add = (message: string) => findings.push({ path: c.path, message, fix: HOST_CONTROL_FIX });
  const privileged = boolOf(c.privileged);
  if (!privileged.known) add(`privileged is ${show(privileged.raw)}, an expression the rule cannot prove false`);
  else if (privileged.value) add("the container is privileged");
  const user = stringOf(c.user);
  if (!user.known) add(`user is ${show(user.raw)}, an expression the rule cannot prove is not root`);
  else if (user.value !== undefined) {
    const problem = userProblem(user.value);
    if (problem !== undefined) add(`the container's user overrides the image's non-root USER: ${problem}`);
  }
  const namespaces: Array<[string, unknown, RegExp]> = [
    ["network_mode", c.networkMode, /^(host|(container|service):.*)$/],
    ["pid_mode", c.pidMode, /^(host|(container|service):.*)$/],
    ["ipc_mode", c.ipcMode, /^(host|(container|service):.*)$/],
    ["userns_mode", c.usernsMode, /^host$/],
    ["cgroupns_mode", c.cgroupnsMode, /^host$/],
  ];
  for (const [field, raw, bad] of namespaces) {
    const value = stringOf(raw);
    if (!value.known) add(`${field} is ${show(value.raw)}, an expression the rule cannot check`);
    else if (value.value !== undefined && bad.test(value.value.trim().toLowerCase())) add(`${field} is ${value.value}: the container shares the host's namespace`);
  }
  const caps = listOf(c.capAdd);
  if (!caps.known) add(`capabilities.add is ${show(caps.raw)}, an expression the rule cannot check`);
  else if (caps.value.length > 0) add(`the container adds capabilities ${caps.value.map((v) => String(v)).join(", ")}`);
  const devices = blocksOf(c.devices);
  if (!devices.known || devices.value.length > 0) add(`the container maps host devices ${show(c.devices)}`);
  for (const source of c.hostPaths ?? []) {
    const why = dangerousHostPath(source);
    if (why !== undefined) add(why);
  }
  const opts = listOf(c.securityOpts);
  if (!opts.known) add(`security_opts is ${show(opts.raw)}, an expression the rule cannot check`);
  else {
    for (const opt of opts.value) {
      const text = String(opt);
      if (isExpression(text)) add(`security option ${show(text)} is an expression the rule cannot check`);
      // Allow-list: only no-new-privileges. A seccomp profile (a file or inline JSON that may allow everything),
      // an AppArmor profile, an SELinux label (type:spc_t, disable) all change the confinement the engine gives.
      else if (!SAFE_SECURITY_OPT.test(text.trim())) add(`security option ${show(text.length > 60 ? `${text.slice(0, 57)}...` : text)} is not one the pack admits (only no-new-privileges)`);
    }
  }
  for (const from of c.volumesFrom ?? []) add(`the container mounts the volumes of ${show(from)} (volumes_from): whatever that container reaches, this one does`);
  for (const { what, value } of c.mountOptions ?? []) {
    const problem = mountOptionProblem(what, value);
    if (problem !== undefined) add(problem);
  }
  for (const field of c.dynamic ?? []) {
    if (["capabilities", "devices", "volumes", "mounts", "security_opts"].includes(field)) add(`${field} is a dynamic block the rule cannot check`);
  }
  return findings;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** True when a published port's host address is loopback (the one test, shared with the review page); no address is every interface. */
export function isLoopbackAddress(ip: unknown): boolean {
  return typeof ip === "string" && LOOPBACK.test(ip);
}

/** WEEK-DOCKER-002's check: published ports bind to loopback. */
export function portFindings(c: ContainerSpec): ContainerFinding[] {
  const fix = 'set ip = "127.0.0.1" (PrivateNetwork does), or opt in with network.publishOnAllInterfaces';
  if (typeof c.ports === "string") return [{ path: c.path, message: `ports is ${show(c.ports)}, an expression the rule cannot check`, fix }];
  const findings: ContainerFinding[] = [];
  for (const port of c.ports ?? []) {
    const ip = stringOf(port.ip);
    const host = port.external === undefined ? "a random host port" : `host port ${show(port.external)}`;
    if (!ip.known) findings.push({ path: c.path, message: `${host} binds to ${show(ip.raw)}, an expression the rule cannot prove is loopback`, fix });
    else if (ip.value === undefined || !LOOPBACK.test(ip.value)) findings.push({ path: c.path, message: `${host} is published on ${ip.value ?? "every interface"}`, fix });
  }
  if ((c.dynamic ?? []).includes("ports")) findings.push({ path: c.path, message: "ports is a dynamic block the rule cannot check", fix });
  return findings;
}

/** WEEK-DOCKER-003's check: a healthcheck, a memory limit and a restart policy, all literal. */
export function limitsFindings(c: ContainerSpec): ContainerFinding[] {
  const findings: ContainerFinding[] = [];
  const test = listOf(c.healthcheck);
  if (!test.known) findings.push({ path: c.path, message: `the healthcheck test is ${show(test.raw)}, an expression the rule cannot check`, fix: "give it a literal healthcheck that asks the service itself" });
  else if (test.value.length === 0 || String(test.value[0]).toUpperCase() === "NONE") findings.push({ path: c.path, message: "the container has no healthcheck", fix: "give it a healthcheck that asks the service itself" });
  const memory = numberOf(c.memoryMiB);
  if (!memory.known) findings.push({ path: c.path, message: `memory is ${show(memory.raw)}, an expression the rule cannot prove is a limit`, fix: "set memory (MiB) to a literal number, ServiceContainer's memoryMiB" });
  else if (memory.value === undefined || memory.value <= 0) findings.push({ path: c.path, message: `the container has no memory limit${memory.value === undefined ? "" : ` (memory ${memory.value})`}`, fix: "set memory (MiB), ServiceContainer's memoryMiB" });
  const restart = stringOf(c.restart);
  if (!restart.known) findings.push({ path: c.path, message: `restart is ${show(restart.raw)}, an expression the rule cannot check`, fix: 'set restart = "unless-stopped"' });
  else if (restart.value === undefined || !/^(always|unless-stopped|on-failure(:\d+)?)$/.test(restart.value)) findings.push({ path: c.path, message: `the container has no restart policy${restart.value === undefined ? "" : ` (restart ${restart.value})`}`, fix: 'set restart = "unless-stopped"' });
  return findings;
}

/** A Compose variable reference: `$$` (a literal dollar), `${NAME}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:-default}`, `${NAME-default}` or `$NAME`. */
const COMPOSE_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const RUNTIME_VALUE = String.raw`\$\{compose\.[A-Za-z_][A-Za-z0-9_]*\}`;

/**
 * What in a Compose value is known to come from the run-time environment rather than from the
 * file (the `sources` of `envSecretFindings`): a value made only of variables, or a URL whose
 * credentials are only variables. A literal part (`prefix-${SECRET}`, `x${PASSWORD}`) or a
 * literal default (`${API_KEY:-abc}`) is not.
 */
export const COMPOSE_RUNTIME_VALUES = new RegExp(`^(?:${RUNTIME_VALUE})+$|^[a-z][a-z0-9+.-]*://(?:${RUNTIME_VALUE})*:(?:${RUNTIME_VALUE})+@`, "i");

/**
 * A Compose value with each variable reference written as the expression `${compose.NAME}`:
 * unknown until Compose runs, so the checks treat it as they treat a Terraform expression. A
 * required variable and an empty default are the variable alone; a non-empty default stays
 * visible (`${compose.NAME:-text}`), so it is never taken for a value from the environment.
 * `$$` is a literal dollar.
 */
export function composeValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value.replace(COMPOSE_REFERENCE, (whole: string, braced?: string, op?: string, rest?: string, bare?: string) => {
    if (whole === "$$") return "$";
    const name = braced ?? bare;
    return op !== undefined && op.endsWith("-") && rest !== "" ? `\${compose.${name}:-${rest}}` : `\${compose.${name}}`;
  });
}

/** A Compose size (`512m`, `1g`, `536870912`) in MiB, or the value itself when it is not one. */
function composeMiB(value: unknown): unknown {
  const v = composeValue(value);
  if (typeof v === "number") return v / (1024 * 1024);
  if (typeof v !== "string" || isExpression(v)) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$/i.exec(v);
  if (m === null) return v;
  const factor = { "": 1 / (1024 * 1024), b: 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 }[m[2].toLowerCase() as "" | "b" | "k" | "m" | "g"];
  return Number(m[1]) * factor;
}

/** One Compose `ports` entry (short `[ip:]host:container[/proto]` or long syntax) as host port and address. */
function composePort(entry: unknown): { external?: unknown; ip?: unknown } {
  if (entry !== null && typeof entry === "object") {
    const long = entry as Json;
    return { external: composeValue(long.published), ip: composeValue(long.host_ip) };
  }
  const text = String(composeValue(entry)).replace(/\/(tcp|udp|sctp)$/, "");
  if (isExpression(text)) return { external: text, ip: text };
  const v6 = /^\[([^\]]+)\]:([^:]*):(.+)$/.exec(text);
  if (v6 !== null) return { ip: v6[1], external: v6[2] };
  const parts = text.split(":");
  if (parts.length >= 3) return { ip: parts.slice(0, -2).join(":"), external: parts.at(-2) };
  if (parts.length === 2) return { external: parts[0] };
  return {}; // a container port only: Docker publishes it on a random host port, every interface
}

/** The host source of one Compose `volumes` entry when it is a bind mount, else undefined (a named volume, a tmpfs). */
function composeBindSource(entry: unknown): unknown {
  if (entry !== null && typeof entry === "object") {
    const long = entry as Json;
    return long.type === "bind" ? composeValue(long.source ?? "<no source>") : undefined;
  }
  const text = composeValue(entry);
  if (typeof text !== "string") return text;
  if (isExpression(text)) return text;
  const source = text.split(":")[0];
  if (source.startsWith("/") || source.startsWith(".") || source.startsWith("~")) return source;
  return undefined;
}

/** A variable named without a value (`- NAME`, `NAME:`): Compose takes it from the shell at run time. */
const fromShell = (name: string): string => `\${compose.${name}}`;

/** A Compose service (`services.<name>` of a rendered docker-compose.yml) as a ContainerSpec. */
export function containerOfCompose(pathOf: string, service: Json): ContainerSpec {
  const env = service.environment;
  const envPairs: Array<[string, unknown]> | string | undefined =
    env === undefined || env === null
      ? []
      : Array.isArray(env)
        ? env.map((entry): [string, unknown] => {
            const text = String(entry);
            const at = text.indexOf("=");
            return at < 0 ? [text, fromShell(text)] : [text.slice(0, at), composeValue(text.slice(at + 1))];
          })
        : typeof env === "object"
          ? Object.entries(env as Json).map(([name, value]): [string, unknown] => [name, value === null || value === undefined ? fromShell(name) : composeValue(value)])
          : String(composeValue(env));
  const volumes = service.volumes;
  const hostPaths = Array.isArray(volumes) ? volumes.map(composeBindSource).filter((v) => v !== undefined) : volumes === undefined ? [] : [composeValue(volumes)];
  const ports = service.ports;
  const limits = ((service.deploy as Json | undefined)?.resources as Json | undefined)?.limits as Json | undefined;
  const healthcheck = service.healthcheck as Json | undefined;
  const test = healthcheck === undefined || healthcheck.disable === true ? undefined : typeof healthcheck.test === "string" ? ["CMD-SHELL", healthcheck.test] : healthcheck.test;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(composeValue) : v === undefined ? undefined : composeValue(v));
  return {
    path: pathOf,
    image: composeValue(service.image),
    privileged: composeValue(service.privileged),
    user: composeValue(service.user),
    networkMode: composeValue(service.network_mode),
    pidMode: composeValue(service.pid),
    ipcMode: composeValue(service.ipc),
    usernsMode: composeValue(service.userns_mode),
    cgroupnsMode: composeValue(service.cgroup),
    capAdd: list(service.cap_add),
    devices: list(service.devices),
    hostPaths,
    securityOpts: list(service.security_opt),
    volumesFrom: service.volumes_from === undefined ? [] : Array.isArray(service.volumes_from) ? service.volumes_from.map(composeValue) : [composeValue(service.volumes_from)],
    mountOptions: Array.isArray(volumes)
      ? volumes.flatMap((v) => {
          if (v === null || typeof v !== "object") return [];
          const long = v as Json;
          return [
            ...(long.bind !== undefined ? [{ what: "bind", value: long.bind }] : []),
            ...(long.volume !== undefined ? [{ what: "volume", value: long.volume }] : []),
          ];
        })
      : [],
    env: envPairs,
    ports: Array.isArray(ports) ? ports.map(composePort) : ports === undefined ? [] : String(composeValue(ports)),
    memoryMiB: composeMiB(limits?.memory ?? service.mem_limit),
    restart: composeValue(service.restart),
    healthcheck: test,
  };
}
