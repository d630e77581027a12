/**
 * The policy pack's checks of the Compose rendering (docker-compose.yml): the Docker provider's
 * rules, same ids and same checks (container.ts), run on each service through `judgeDocument`.
 * A check reads the Compose document as plain data (what `docker compose config` would read), so
 * a hand-edited or foreign file is judged the same way as a rendered one. What is Compose's own
 * is in the adapter (`containerOfCompose`): the short and long port and volume syntaxes, and
 * variable interpolation (`${VAR:?...}`, `$VAR`) counted as a value given at run time, never
 * as a literal (`COMPOSE_RUNTIME_VALUES`).
 *
 * Suppression, as for resources: next to the service, naming the rule and giving a reason,
 * `x-week-suppress: [{ rule: WEEK-DOCKER-002, reason: ... }]` (the renderer writes it for the
 * configuration's opt-ins). Findings and suppressions are at `compose/services/<name>`.
 */
import { COMPOSE_RUNTIME_VALUES, composeValue, containerOfCompose, hostControlFindings, limitsFindings, portFindings, volumeDriverProblem, type ContainerSpec } from "./container";
import type { Json } from "./document";
import { imageProblem, PIN_FIX } from "./image-ref";
import { judgeDocument, type PolicyReport } from "./policy-pack";
import type { Finding, PolicyRule } from "./rule";
import { dockerContainerLimits } from "./rules/docker-container-limits";
import { dockerLoopbackPorts } from "./rules/docker-loopback-ports";
import { dockerNoHostControl } from "./rules/docker-no-host-control";
import { dockerPinnedImage } from "./rules/docker-pinned-image";
import { knownResources } from "./rules/known-resources";
import { bodySecretFindings, envSecretFindings, secretLiterals } from "./rules/secret-literals";
import type { Suppression, SuppressionTable } from "./suppress";

/** A Compose document as parsed from YAML: only `services` is read. */
export type ComposeDocument = unknown;

interface ComposeService {
  readonly name: string;
  /** `compose/services/<name>`: where findings and suppressions are. */
  readonly path: string;
  readonly service: Json;
}

function servicesOf(doc: ComposeDocument): ComposeService[] {
  const services = (doc !== null && typeof doc === "object" ? (doc as Json).services : undefined) ?? {};
  return Object.entries(services as Record<string, unknown>).map(([name, service]) => ({
    name,
    path: `compose/services/${name}`,
    service: service !== null && typeof service === "object" ? (service as Json) : {},
  }));
}

/** A Terraform container rule's id and statement, with its shared check run on every service. */
function containerRule(rule: PolicyRule, check: (container: ContainerSpec) => Finding[]): PolicyRule<ComposeDocument> {
  return {
    id: rule.id,
    statement: rule.statement,
    check: (doc) => servicesOf(doc).flatMap(({ path, service }) => check(containerOfCompose(path, service))),
  };
}

/** WEEK-DOCKER-001 on Compose: a pulled image is pinned; a built one is judged by its Dockerfile. */
export const composePinnedImage: PolicyRule<ComposeDocument> = {
  id: dockerPinnedImage.id,
  statement: dockerPinnedImage.statement,
  check(doc): Finding[] {
    return servicesOf(doc).flatMap(({ name, path, service }): Finding[] => {
      if (service.build !== undefined) return []; // the name of a built image, not something pulled
      if (service.image === undefined) return [{ path, message: `service ${name} has neither image nor build`, fix: "give a pinned image or a build" }];
      const problem = imageProblem(containerOfCompose(path, service).image);
      return problem === undefined ? [] : [{ path, message: problem, fix: PIN_FIX }];
    });
  },
};

/** WEEK-DOCKER-004 on Compose: the services' host control, and top-level volumes whose driver options mount host paths. */
const composeNoHostControl: PolicyRule<ComposeDocument> = {
  id: dockerNoHostControl.id,
  statement: dockerNoHostControl.statement,
  check(doc): Finding[] {
    const findings = servicesOf(doc).flatMap(({ path, service }) => hostControlFindings(containerOfCompose(path, service)));
    const volumes = (doc !== null && typeof doc === "object" ? (doc as Json).volumes : undefined) ?? {};
    for (const [name, volume] of Object.entries(volumes as Record<string, unknown>)) {
      const v = (volume ?? {}) as Json;
      const problem = volumeDriverProblem(composeValue(v.driver), v.driver_opts);
      if (problem !== undefined) findings.push({ path: `compose/volumes/${name}`, message: problem, fix: "use Docker's local driver without options" });
    }
    return findings;
  },
};

/** A Compose value with its variables as run-time expressions, all the way down. */
function composeValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(composeValues);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, composeValues(v)]));
  return composeValue(value);
}

/** WEEK-SECRET-001 on Compose: the environment by name and content, and every other string of a service (command, entrypoint, healthcheck, labels...) by content. */
const composeSecretLiterals: PolicyRule<ComposeDocument> = {
  id: secretLiterals.id,
  statement: secretLiterals.statement,
  check(doc): Finding[] {
    return servicesOf(doc).flatMap(({ path, service }) => {
      const { environment: _environment, ...rest } = service;
      return [...envSecretFindings(path, containerOfCompose(path, service).env, COMPOSE_RUNTIME_VALUES), ...bodySecretFindings(path, composeValues(rest), COMPOSE_RUNTIME_VALUES, "service")];
    });
  },
};

/** Top-level keys of a Compose file the pack reads (any `x-` extension is inert). */
const COMPOSE_TOP_LEVEL = ["name", "services", "networks", "volumes"];
/**
 * Service keys the pack admits, each judged by a rule (the container checks read them) or inert
 * (a name, a start order). Anything else (sysctls, runtime, cgroup_parent, configs, secrets with
 * host files, extra_hosts, group_add...) is a finding: the Compose side of WEEK-PACK-001.
 */
const COMPOSE_SERVICE_KEYS = [
  "image", "build", "container_name", "hostname", "command", "entrypoint", "working_dir", "user", "environment", "env_file",
  "ports", "volumes", "networks", "depends_on", "healthcheck", "restart", "mem_limit", "deploy", "logging", "labels", "read_only",
  "privileged", "network_mode", "pid", "ipc", "userns_mode", "cgroup", "cap_add", "cap_drop", "devices", "security_opt", "volumes_from",
  "x-week-suppress",
];

/** WEEK-PACK-001 on Compose: only the top-level blocks, service keys and network drivers the pack knows. */
export const composeKnownKeys: PolicyRule<ComposeDocument> = {
  id: knownResources.id,
  statement: knownResources.statement,
  check(doc): Finding[] {
    const fix = "drop it, or admit it in policies/compose.ts with the rule that judges it and bad/good cases";
    const findings: Finding[] = [];
    const top = doc !== null && typeof doc === "object" ? (doc as Json) : {};
    for (const key of Object.keys(top)) if (!COMPOSE_TOP_LEVEL.includes(key) && !key.startsWith("x-")) findings.push({ path: `compose/${key}`, message: `the file has a top-level ${key}, which the pack does not read`, fix });
    for (const { path, service } of servicesOf(doc)) {
      for (const key of Object.keys(service)) if (!COMPOSE_SERVICE_KEYS.includes(key)) findings.push({ path, message: `the service sets ${key}, which no rule of the pack declares safe`, fix });
      const logging = (service.logging ?? {}) as Json;
      if (logging.driver !== undefined && !/^(json-file|local)$/.test(String(composeValue(logging.driver)))) findings.push({ path, message: `logging driver ${JSON.stringify(logging.driver)} is not one the pack admits (json-file, local)`, fix });
    }
    for (const [name, network] of Object.entries((top.networks ?? {}) as Record<string, unknown>)) {
      const n = (network ?? {}) as Json;
      for (const key of Object.keys(n)) if (!["driver", "labels", "name", "internal"].includes(key)) findings.push({ path: `compose/networks/${name}`, message: `the network sets ${key}, which the pack does not admit`, fix });
      if (n.driver !== undefined && composeValue(n.driver) !== "bridge") findings.push({ path: `compose/networks/${name}`, message: `the network driver ${JSON.stringify(n.driver)} is not bridge`, fix });
    }
    for (const [name, volume] of Object.entries((top.volumes ?? {}) as Record<string, unknown>)) {
      for (const key of Object.keys((volume ?? {}) as Json)) if (!["driver", "driver_opts", "labels", "name"].includes(key)) findings.push({ path: `compose/volumes/${name}`, message: `the volume sets ${key}, which the pack does not admit`, fix });
    }
    return findings;
  },
};

export const COMPOSE_RULES: readonly PolicyRule<ComposeDocument>[] = [
  composeKnownKeys,
  composePinnedImage,
  containerRule(dockerLoopbackPorts, portFindings),
  containerRule(dockerContainerLimits, limitsFindings),
  composeNoHostControl,
  composeSecretLiterals,
];

/** The rules each service waives with `x-week-suppress` and a reason, by the service's path. */
export function composeSuppressions(doc: ComposeDocument): SuppressionTable {
  const table = new Map<string, Suppression[]>();
  for (const { path, service } of servicesOf(doc)) {
    const entries = service["x-week-suppress"];
    const own: Suppression[] = [];
    for (const entry of Array.isArray(entries) ? entries : entries === undefined ? [] : [entries]) {
      const e = (entry ?? {}) as Json;
      if (typeof e.rule === "string" && typeof e.reason === "string" && e.reason.trim() !== "") own.push({ ruleId: e.rule, reason: e.reason.trim() });
    }
    if (own.length > 0) table.set(path, own);
  }
  return table;
}

/** Judges every service of a Compose document, as synth judges a stack (`policySummary` for its line). */
export function checkCompose(document: ComposeDocument, rules: readonly PolicyRule<ComposeDocument>[] = COMPOSE_RULES): PolicyReport {
  return judgeDocument(rules, document, composeSuppressions(document));
}
