/**
 * What changed between two syntheses of a stack, and what the change destroys: resources added
 * and removed, attributes changed (secrets shown as changed, never their values), and the
 * changes a reviewer must see first (a new address, a store touched, protection lifted, a port
 * opened beyond loopback, public access granted).
 */
import { describeStack, envMap, isSecret, referencesIn, sourceHashOf, type Resource, type StackDescription } from "./describe";
import { effectOf, isMeta, noteOf, type Effect } from "./replacement";
import type { Json, JsonObject, SynthStack } from "./synth-output";

export interface AttributeChange {
  /** `ports[0].ip`, `env.POSTGRES_USER`, `settings.tier`. */
  readonly path: string;
  readonly before?: string;
  readonly after?: string;
  /** The values are secret: the page says "changed" and shows neither. */
  readonly secret: boolean;
  readonly effect: Effect;
  readonly note?: string;
}

export type ChangeKind = "added" | "removed" | "moved" | "changed";

export interface ResourceChange {
  readonly kind: ChangeKind;
  readonly address: string;
  readonly path: string;
  readonly type: string;
  /** For "moved": where it was. */
  readonly from?: { address: string; path: string };
  /** "created", "destroyed", "destroyed and re-created", "replaced", "updated in place", or "update, or replacement: see plan". */
  readonly action: string;
  readonly attributes: AttributeChange[];
  /** Why the action follows, when it is not the resource's own attributes (an image rebuilt). */
  readonly because?: string;
}

export type AlarmKind = "address changed" | "data at risk" | "protection lifted" | "port opened" | "public access" | "secret exposed";

export interface Alarm {
  readonly kind: AlarmKind;
  readonly address: string;
  readonly message: string;
}

export interface StackDiff {
  readonly stack: string;
  readonly alarms: Alarm[];
  readonly changes: ResourceChange[];
  /** Outputs and variables added, removed, or whose sensitivity changed: one line each. */
  readonly interface: string[];
  readonly before: StackDescription;
  readonly after: StackDescription;
}

const STORE_TYPES = new Set(["docker_volume", "google_sql_database_instance", "google_sql_database", "heroku_addon"]);
const PUBLIC_MEMBERS = new Set(["allUsers", "allAuthenticatedUsers"]);
const NO_REAL_CHANGE = "no change to the real resource (Terraform settings only)";
const ACTION: Record<Effect, string> = {
  replaced: "replaced",
  updated: "updated in place",
  unknown: "update, or replacement: see plan",
};

const isObject = (v: Json | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: Json | undefined): string | undefined => (v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v));

/** Flattens a resource body to `path -> value`: env lists by variable name, lists of named objects by name. */
export function flatten(value: Json, prefix = "", out: Record<string, Json> = {}): Record<string, Json> {
  if (Array.isArray(value)) {
    const key = prefix.split(".").pop() ?? "";
    if (key === "env" && value.every((e) => typeof e === "string" && e.includes("="))) {
      for (const [name, v] of Object.entries(envMap(value))) out[`${prefix}.${name}`] = v;
    } else if (value.length > 0 && value.every((e) => isObject(e) && typeof e.name === "string")) {
      for (const e of value as JsonObject[]) flatten(e, `${prefix}[${e.name as string}]`, out);
    } else if (value.length === 0) {
      out[prefix] = [];
    } else {
      value.forEach((e, i) => flatten(e, `${prefix}[${i}]`, out));
    }
  } else if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => k !== "//");
    if (keys.length === 0) out[prefix] = {};
    for (const k of keys) flatten(value[k], prefix === "" ? k : `${prefix}.${k}`, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

const topOf = (path: string) => path.split(/[.[]/)[0];
const lastKey = (path: string) => (path.split(".").pop() ?? path).replace(/\[.*$/, "");

function attributeChanges(doc: JsonObject, before: Resource, after: Resource): AttributeChange[] {
  const a = flatten(before.body);
  const b = flatten(after.body);
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: AttributeChange[] = [];
  for (const path of paths) {
    const x = a[path];
    const y = b[path];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    const top = topOf(path);
    const secret = isSecret(doc, lastKey(path), x ?? null) || isSecret(doc, lastKey(path), y ?? null) || top === "sensitive_config_vars";
    const effect = effectOf(after.type, top);
    out.push({
      path,
      before: secret ? undefined : show(x),
      after: secret ? undefined : show(y),
      secret,
      effect,
      note: noteOf(after.type, top) ?? (isMeta(top) ? "a Terraform meta-argument: the real resource is not changed by it" : undefined),
    });
  }
  return out;
}

function worst(effects: Effect[]): Effect {
  if (effects.includes("replaced")) return "replaced";
  if (effects.includes("unknown")) return "unknown";
  return "updated";
}

/** Pairs a removed resource with an added one that is the same thing under a new address. */
function samePair(removed: Resource, added: Resource): boolean {
  if (removed.type !== added.type) return false;
  if (typeof removed.body.name === "string" && removed.body.name === added.body.name && !removed.body.name.includes("${")) return true;
  const tail = (p: string) => p.split("/").slice(-1)[0];
  const strip = (body: JsonObject) => JSON.stringify(flatten(body));
  return tail(removed.path) === tail(added.path) || strip(removed.body) === strip(added.body);
}

function protections(r: Resource): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const lifecycle = isObject(r.body.lifecycle) ? r.body.lifecycle : {};
  if (lifecycle.prevent_destroy === true) out["lifecycle.prevent_destroy"] = true;
  if (r.body.deletion_protection === true || (r.type === "google_sql_database_instance" && r.body.deletion_protection === undefined)) out.deletion_protection = true;
  const settings = isObject(r.body.settings) ? r.body.settings : {};
  if (settings.deletion_protection_enabled === true) out["settings.deletion_protection_enabled"] = true;
  return out;
}

/** Compares the synth of the base (`before`) with the current one (`after`) for one stack. */
export function diffStacks(before: SynthStack, after: SynthStack): StackDiff {
  const was = describeStack(before);
  const now = describeStack(after);
  const byAddress = (rs: Resource[]) => new Map(rs.map((r) => [r.address, r]));
  const oldR = byAddress(was.resources);
  const newR = byAddress(now.resources);
  const changes: ResourceChange[] = [];
  const alarms: Alarm[] = [];

  const removed = was.resources.filter((r) => !newR.has(r.address));
  const added = now.resources.filter((r) => !oldR.has(r.address));
  const pairedAdded = new Set<string>();

  for (const r of removed) {
    const twin = added.find((a) => !pairedAdded.has(a.address) && samePair(r, a));
    const stateful = STORE_TYPES.has(r.type);
    const guarded = Object.keys(protections(r));
    if (twin !== undefined) {
      pairedAdded.add(twin.address);
      changes.push({
        kind: "moved",
        address: twin.address,
        path: twin.path,
        type: twin.type,
        from: { address: r.address, path: r.path },
        action: "destroyed and re-created",
        attributes: attributeChanges(after.doc, r, twin),
      });
      alarms.push({
        kind: "address changed",
        address: twin.address,
        message:
          `\`${r.path}\` became \`${twin.path}\` (\`${r.address}\` → \`${twin.address}\`): a construct id was renamed or moved, so Terraform destroys the resource and creates it again` +
          (stateful ? ", and its data is lost" : "") +
          (guarded.length > 0 ? ` (${guarded.join(", ")} will stop the plan)` : "") +
          ". Keep the old id, or add a moved block (cdktf: `moveFromId`)",
      });
    } else {
      changes.push({ kind: "removed", address: r.address, path: r.path, type: r.type, action: "destroyed", attributes: [] });
      if (stateful) {
        alarms.push({ kind: "data at risk", address: r.address, message: `\`${r.path}\` (${r.type}) is removed: destroy deletes its data${guarded.length > 0 ? ` (${guarded.join(", ")} will stop the plan)` : ""}` });
      }
    }
  }
  for (const r of added) {
    if (!pairedAdded.has(r.address)) changes.push({ kind: "added", address: r.address, path: r.path, type: r.type, action: "created", attributes: [] });
  }

  for (const r of now.resources) {
    const old = oldR.get(r.address);
    if (old === undefined) continue;
    const attributes = attributeChanges(after.doc, old, r);
    if (attributes.length === 0) continue;
    const effect = worst(attributes.filter((a) => !isMeta(topOf(a.path))).map((a) => a.effect));
    const onlyMeta = attributes.every((a) => isMeta(topOf(a.path)));
    const oldHash = sourceHashOf(old.body);
    const newHash = sourceHashOf(r.body);
    const because =
      oldHash !== undefined && newHash !== undefined && oldHash !== newHash
        ? `its sources changed: source hash \`${oldHash.slice(0, 12).toLowerCase()}\` → \`${newHash.slice(0, 12).toLowerCase()}\``
        : undefined;
    changes.push({
      kind: "changed",
      address: r.address,
      path: r.path,
      type: r.type,
      action: onlyMeta ? NO_REAL_CHANGE : ACTION[effect],
      attributes,
      because,
    });
    const was = protections(old);
    const is = protections(r);
    for (const guard of Object.keys(was)) {
      if (is[guard] !== true) {
        alarms.push({ kind: "protection lifted", address: r.address, message: `\`${r.path}\`: \`${guard}\` is lifted, so the next destroy deletes it${STORE_TYPES.has(r.type) ? " and its data" : ""}` });
      }
    }
  }

  // A replaced resource gets new attributes ("known after apply"): what refers to it in an
  // argument that forces replacement is replaced too (an image rebuilt replaces its container,
  // a Heroku app re-created takes its add-on and its data with it).
  const replacedBy = (c: ResourceChange) => c.action === "replaced" || c.action === "destroyed and re-created";
  for (let grew = true; grew; ) {
    grew = false;
    const replaced = new Set(changes.filter(replacedBy).flatMap((c) => [c.address, c.from?.address ?? c.address]));
    for (const r of now.resources) {
      if (!oldR.has(r.address) || replaced.has(r.address)) continue;
      const effects: Effect[] = [];
      const causes = new Set<string>();
      for (const [attribute, value] of Object.entries(r.body)) {
        if (isMeta(attribute)) continue;
        const hit = referencesIn(value).resources.filter((a) => replaced.has(a));
        if (hit.length === 0) continue;
        hit.forEach((a) => causes.add(a));
        effects.push(effectOf(r.type, attribute));
      }
      if (effects.length === 0) continue;
      const effect = worst(effects);
      const at = changes.findIndex((c) => c.address === r.address && c.kind === "changed");
      const current = at >= 0 ? changes[at] : undefined;
      if (current !== undefined && current.action === ACTION[effect] && current.because !== undefined) continue;
      if (current !== undefined && current.action === ACTION.replaced) continue;
      const because = `it refers to ${[...causes].map((a) => `\`${a}\``).join(", ")}, which is replaced${r.type === "google_cloud_run_v2_service" && effect === "updated" ? " (a new revision)" : ""}`;
      const change: ResourceChange = { kind: "changed", address: r.address, path: r.path, type: r.type, action: ACTION[effect], attributes: current?.attributes ?? [], because: current?.because !== undefined ? `${current.because}; ${because}` : because };
      if (at >= 0) changes[at] = change;
      else changes.push(change);
      grew = effect === "replaced" || grew;
    }
  }

  for (const c of changes) {
    if (c.kind !== "changed" || !STORE_TYPES.has(c.type) || c.action === NO_REAL_CHANGE) continue;
    const what = c.attributes.length > 0 ? c.attributes.map((a) => `\`${a.path}\``).join(", ") : (c.because ?? "");
    alarms.push({ kind: "data at risk", address: c.address, message: `\`${c.path}\` (${c.type}) holds data and is ${c.action}: ${what}` });
  }

  // Ports opened beyond loopback.
  const oldPorts = new Map(was.ports.map((p) => [`${p.service}:${JSON.stringify(p.containerPort)}`, p]));
  for (const p of now.ports) {
    if (p.loopbackOnly) continue;
    const before = oldPorts.get(`${p.service}:${JSON.stringify(p.containerPort)}`);
    if (before === undefined || before.loopbackOnly) {
      alarms.push({ kind: "port opened", address: p.resource, message: `\`${p.service}\` publishes port ${show(p.hostPort)} on ${p.hostIp} (every interface), ${before === undefined ? "a new port" : `was ${before.hostIp}`}: anyone on the network reaches it` });
    }
  }

  // Public access granted.
  const publicGrants = (d: StackDescription) =>
    d.resources.filter((r) => PUBLIC_MEMBERS.has(String(r.body.member)) || (Array.isArray(r.body.members) && r.body.members.some((m) => PUBLIC_MEMBERS.has(String(m)))));
  const wasPublic = new Set(publicGrants(was).map((r) => r.path));
  for (const r of publicGrants(now)) {
    if (!wasPublic.has(r.path)) alarms.push({ kind: "public access", address: r.address, message: `\`${r.path}\` grants ${show(r.body.role)} to ${show(r.body.member ?? r.body.members)}: anyone on the internet can call it` });
  }
  const openNetworks = (d: StackDescription) =>
    new Set(d.resources.filter((r) => /0\.0\.0\.0\/0|::\/0/.test(JSON.stringify(r.body.settings ?? {}))).map((r) => r.path));
  const wasOpen = openNetworks(was);
  for (const path of openNetworks(now)) {
    if (!wasOpen.has(path)) alarms.push({ kind: "public access", address: path, message: `\`${path}\` authorises a network open to the world (0.0.0.0/0 or ::/0)` });
  }

  // Outputs and variables: a secret that stops being sensitive is shown in plain text by Terraform.
  const iface: string[] = [];
  const outputsBefore = new Map(was.outputs.map((o) => [o.name, o]));
  const outputsAfter = new Map(now.outputs.map((o) => [o.name, o]));
  for (const o of now.outputs) if (!outputsBefore.has(o.name)) iface.push(`output \`${o.name}\` added${o.sensitive ? " (sensitive)" : ""}`);
  for (const o of was.outputs) if (!outputsAfter.has(o.name)) iface.push(`output \`${o.name}\` removed`);
  for (const o of now.outputs) {
    const b = outputsBefore.get(o.name);
    if (b?.sensitive === true && !o.sensitive) {
      iface.push(`output \`${o.name}\` no longer sensitive`);
      alarms.push({ kind: "secret exposed", address: `output.${o.name}`, message: `output \`${o.name}\` is no longer sensitive: Terraform prints it in plain text after each apply` });
    }
  }
  const variables = (d: JsonObject) => (isObject(d.variable) ? d.variable : {});
  const varsBefore = variables(before.doc);
  const varsAfter = variables(after.doc);
  for (const [name, v] of Object.entries(varsAfter)) {
    const b = varsBefore[name];
    if (b === undefined) iface.push(`variable \`${name}\` added (TF_VAR_${name})`);
    else if (isObject(b) && b.sensitive === true && isObject(v) && v.sensitive !== true) {
      iface.push(`variable \`${name}\` no longer sensitive`);
      alarms.push({ kind: "secret exposed", address: `var.${name}`, message: `variable \`${name}\` is no longer sensitive: its value shows in plans and logs` });
    }
  }
  for (const name of Object.keys(varsBefore)) if (!(name in varsAfter)) iface.push(`variable \`${name}\` removed`);

  const order: AlarmKind[] = ["address changed", "data at risk", "protection lifted", "secret exposed", "port opened", "public access"];
  alarms.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind));
  const kindOrder: ChangeKind[] = ["moved", "removed", "changed", "added"];
  changes.sort((x, y) => kindOrder.indexOf(x.kind) - kindOrder.indexOf(y.kind) || x.address.localeCompare(y.address));
  return { stack: after.name, alarms, changes, interface: iface, before: was, after: now };
}
