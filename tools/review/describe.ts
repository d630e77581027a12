/**
 * What a synthesised stack is, read from its Terraform JSON: resources with their construct
 * paths, images and their source hashes, published ports and where they bind, volumes and
 * databases and their protection, secrets by name and where they come from (never a value),
 * outputs, and the policy suppressions recorded in the manifest.
 */
import { isLoopbackAddress } from "../../policies/container";
import { resources as documentResources, type TerraformDocument } from "../../policies/document";
import { carriesSecret } from "../../policies/rule";
import type { Json, JsonObject, SynthStack } from "./synth-output";

export interface Resource {
  /** `type.name`, Terraform's address: a change of it destroys and re-creates the resource. */
  readonly address: string;
  readonly type: string;
  readonly name: string;
  /** The construct path (`local/database/data`), from the resource's metadata. */
  readonly path: string;
  /** The resource's arguments, without cdktf's `//` metadata. */
  readonly body: JsonObject;
}

export interface PortBinding {
  readonly resource: string;
  readonly service: string;
  readonly hostIp: string;
  readonly hostPort: Json;
  readonly containerPort: Json;
  readonly loopbackOnly: boolean;
}

export interface Store {
  readonly resource: string;
  readonly kind: string;
  readonly name: string;
  readonly protection: string;
  readonly protectedFromDestroy: boolean;
  readonly usedBy: string[];
}

export interface Secret {
  readonly name: string;
  readonly where: string;
  readonly source: string;
}

export interface Suppression {
  readonly ruleId: string;
  readonly path: string;
  readonly reason: string;
}

export interface StackDescription {
  readonly name: string;
  readonly resources: Resource[];
  readonly ports: PortBinding[];
  readonly stores: Store[];
  readonly secrets: Secret[];
  readonly outputs: { name: string; description: string; sensitive: boolean }[];
  readonly suppressions: Suppression[];
  readonly policyErrors: string[];
  readonly requiredVersion?: string;
  readonly providers: { name: string; source: string; version: string }[];
}

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);
const asObject = (value: Json | undefined): JsonObject => (isObject(value) ? value : {});
const asArray = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);
const text = (value: Json | undefined): string => (typeof value === "string" ? value : JSON.stringify(value ?? null));

/** A synthesised stack's JSON as the policy pack's document (one reader for both). */
export function documentOf(doc: JsonObject, stack = ""): TerraformDocument {
  return { kind: "terraform", stack, json: doc };
}

/** Every resource of a synthesised stack, in address order, read by the policy pack's reader (policies/document.ts). */
export function resourcesOf(doc: JsonObject): Resource[] {
  return documentResources(documentOf(doc))
    .map((r) => {
      const { "//": _meta, ...body } = r.config as JsonObject;
      return { address: `${r.type}.${r.name}`, type: r.type, name: r.name, path: r.path, body };
    })
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** The build-context hash in an asset path (`assets/<id>/<HASH>`), or in an image tag/trigger. */
export function sourceHashOf(body: Json): string | undefined {
  const match = /assets\/[^/"]+\/([A-F0-9]{32,})/.exec(JSON.stringify(body));
  return match?.[1];
}

/** Addresses (`type.name`) that an expression refers to, and the variables and locals. */
export function referencesIn(value: Json | undefined): { resources: string[]; variables: string[]; locals: string[]; files: boolean } {
  const s = JSON.stringify(value ?? null);
  const resources = new Set<string>();
  const variables = new Set<string>();
  const locals = new Set<string>();
  for (const m of s.matchAll(/\b(var|local|data)\.([A-Za-z0-9_-]+)|\b([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+/g)) {
    if (m[1] === "var") variables.add(m[2]);
    else if (m[1] === "local") locals.add(m[2]);
    else if (m[3] !== undefined) resources.add(`${m[3]}.${m[4]}`);
  }
  return { resources: [...resources], variables: [...variables], locals: [...locals], files: /\bfile\(/.test(s) };
}

/** Where a value comes from, following locals: `TF_VAR_x`, a file read at plan time, a generated value. */
export function sourceOf(doc: JsonObject, value: Json | undefined, seen = new Set<string>()): string[] {
  const refs = referencesIn(value);
  const sources: string[] = [];
  if (refs.files) sources.push("a file read by Terraform at plan time");
  for (const v of refs.variables) sources.push(`variable ${v} (TF_VAR_${v})`);
  for (const l of refs.locals) {
    if (seen.has(l)) continue;
    seen.add(l);
    const localValue = asObject(doc.locals)[l];
    if (localValue === undefined) continue;
    if (/database_env_file/.test(l) || /database\.env/.test(JSON.stringify(localValue))) {
      if (!sources.includes("database.env")) sources.push("database.env");
    }
    for (const s of sourceOf(doc, localValue, seen)) if (!sources.includes(s)) sources.push(s);
  }
  for (const r of refs.resources) {
    if (/^random_(password|string|id)\./.test(r)) sources.push(`generated at apply time (${r})`);
    else if (/^google_secret_manager_secret/.test(r)) sources.push(`Secret Manager (${r})`);
  }
  return [...new Set(sources.filter((s) => !(s === "a file read by Terraform at plan time" && sources.includes("database.env"))))];
}


/** `NAME=value` environment entries of a container, as a map. */
export function envMap(env: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of asArray(env)) {
    if (typeof entry !== "string") continue;
    const at = entry.indexOf("=");
    if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return out;
}

/** True when an environment entry or attribute named `name` with `value` carries a secret: the policy pack's test (`carriesSecret`), so the page hides what the rules protect. */
export function isSecret(doc: JsonObject, name: string, value: Json | undefined): boolean {
  return carriesSecret(documentOf(doc), name, value);
}

function servicesOf(resources: Resource[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const r of resources) names.set(r.address, typeof r.body.name === "string" ? r.body.name : r.address);
  return names;
}

/** The port bindings of the stack's containers and services. */
function portsOf(resources: Resource[]): PortBinding[] {
  const out: PortBinding[] = [];
  for (const r of resources) {
    if (r.type !== "docker_container") continue;
    for (const p of asArray(r.body.ports)) {
      const port = asObject(p);
      const hostIp = typeof port.ip === "string" ? port.ip : "0.0.0.0";
      out.push({
        resource: r.address,
        service: text(r.body.name),
        hostIp,
        hostPort: port.external ?? port.internal ?? null,
        containerPort: port.internal ?? null,
        loopbackOnly: isLoopbackAddress(port.ip),
      });
    }
  }
  return out;
}

/** Volumes, databases and add-ons that hold data, with their protection. */
function storesOf(resources: Resource[]): Store[] {
  const names = servicesOf(resources);
  const usersOf = (address: string) =>
    resources.filter((r) => r.address !== address && referencesIn(r.body).resources.includes(address)).map((r) => names.get(r.address) ?? r.address)
      .filter((name, i, all) => all.indexOf(name) === i);
  const out: Store[] = [];
  for (const r of resources) {
    const preventDestroy = asObject(r.body.lifecycle).prevent_destroy === true;
    if (r.type === "docker_volume") {
      out.push({
        resource: r.address,
        kind: "Docker volume",
        name: text(r.body.name),
        protection: preventDestroy ? "prevent_destroy" : "none: destroy deletes its data",
        protectedFromDestroy: preventDestroy,
        usedBy: usersOf(r.address),
      });
    } else if (r.type === "google_sql_database_instance") {
      const terraformSide = r.body.deletion_protection !== false;
      const cloudSide = asObject(r.body.settings).deletion_protection_enabled === true;
      const parts = [terraformSide ? "deletion_protection" : "", cloudSide ? "deletion_protection_enabled (Cloud SQL)" : "", preventDestroy ? "prevent_destroy" : ""].filter(Boolean);
      out.push({
        resource: r.address,
        kind: `Cloud SQL ${text(r.body.database_version)}`,
        name: text(r.body.name).includes("${") ? r.path : text(r.body.name),
        protection: parts.length > 0 ? parts.join(", ") : "none: destroy deletes the instance, its data and its backups",
        protectedFromDestroy: terraformSide || cloudSide || preventDestroy,
        usedBy: usersOf(r.address),
      });
    } else if (r.type === "heroku_addon") {
      out.push({
        resource: r.address,
        kind: `Heroku add-on ${text(r.body.plan)}`,
        name: r.path,
        protection: preventDestroy ? "prevent_destroy" : "none (Heroku has no deletion protection): destroy deletes its data",
        protectedFromDestroy: preventDestroy,
        usedBy: usersOf(r.address),
      });
    }
  }
  return out;
}

/** Secrets by name and where they come from; never a value. */
function secretsOf(doc: JsonObject, resources: Resource[]): Secret[] {
  const out: Secret[] = [];
  for (const [name, raw] of Object.entries(asObject(doc.variable))) {
    if (asObject(raw).sensitive === true) {
      const fallback = asObject(raw).default === "" ? " (empty by default)" : "";
      out.push({ name, where: "Terraform variable (sensitive)", source: `TF_VAR_${name}${fallback}` });
    }
  }
  for (const r of resources) {
    if (r.type === "random_password") out.push({ name: r.path, where: r.address, source: "generated at apply time, kept in the state" });
    if (r.type === "docker_container") {
      for (const [key, value] of Object.entries(envMap(r.body.env))) {
        if (!isSecret(doc, key, value)) continue;
        const from = sourceOf(doc, value);
        out.push({ name: key, where: `environment of ${text(r.body.name)}`, source: from.length > 0 ? from.join(", or ") : "a literal value (WEEK-SECRET-001 forbids it)" });
      }
    }
    if (r.type === "heroku_app") {
      if (r.body.sensitive_config_vars !== undefined) {
        out.push({ name: "sensitive_config_vars", where: `Heroku app ${r.path}`, source: sourceOf(doc, r.body.sensitive_config_vars).join(", or ") || "literal" });
      }
      for (const [key, value] of Object.entries(asObject(r.body.config_vars))) {
        if (isSecret(doc, key, value)) out.push({ name: key, where: `config_vars of ${r.path} (plain)`, source: sourceOf(doc, value).join(", or ") });
      }
    }
    if (r.type === "google_secret_manager_secret") {
      out.push({ name: text(r.body.secret_id), where: "Secret Manager", source: "its secret versions" });
    }
    if (r.type === "google_secret_manager_secret_version") {
      const data = r.body.secret_data_wo ?? r.body.secret_data;
      out.push({ name: r.path, where: `version of ${referencesIn(r.body.secret).resources.join(", ")}`, source: sourceOf(doc, data).join(", or ") || "computed at apply time" });
    }
    if (r.type === "google_cloud_run_v2_service") {
      for (const c of asArray(asObject(r.body.template).containers)) {
        for (const e of asArray(asObject(c).env)) {
          const ref = asObject(asObject(asObject(e).value_source).secret_key_ref);
          if (ref.secret !== undefined) out.push({ name: text(asObject(e).name), where: `environment of Cloud Run ${text(r.body.name)}`, source: `Secret Manager, by reference (${referencesIn(ref.secret).resources.join(", ")})` });
        }
      }
    }
  }
  return out;
}

const SUPPRESSED = /^\[(WEEK-[A-Z]+-\d{3})\] suppressed: (.*)$/s;

/** Reads one synthesised stack. */
export function describeStack(stack: SynthStack): StackDescription {
  const { doc } = stack;
  const resources = resourcesOf(doc);
  const terraform = asObject(doc.terraform);
  const providers = Object.entries(asObject(terraform.required_providers)).map(([name, p]) => ({
    name,
    source: text(asObject(p).source),
    version: text(asObject(p).version),
  }));
  return {
    name: stack.name,
    resources,
    ports: portsOf(resources),
    stores: storesOf(resources),
    secrets: secretsOf(doc, resources),
    outputs: Object.entries(asObject(doc.output)).map(([name, o]) => ({
      name,
      description: typeof asObject(o).description === "string" ? (asObject(o).description as string) : "",
      sensitive: asObject(o).sensitive === true,
    })),
    suppressions: stack.annotations.flatMap((a) => {
      const m = SUPPRESSED.exec(a.message);
      return m === null ? [] : [{ ruleId: m[1], path: a.constructPath, reason: m[2] }];
    }),
    policyErrors: stack.annotations.filter((a) => a.level.endsWith("error")).map((a) => a.message),
    requiredVersion: typeof terraform.required_version === "string" ? terraform.required_version : undefined,
    providers,
  };
}

/** A one-line summary of a resource for the table: image and source hash, name, plan... */
export function summaryOf(r: Resource, all: Resource[]): string {
  const b = r.body;
  const imageName = (expr: Json | undefined): string => {
    const target = referencesIn(expr).resources.find((a) => a.startsWith("docker_image."));
    const image = all.find((x) => x.address === target);
    return image !== undefined ? text(image.body.name) : text(expr);
  };
  switch (r.type) {
    case "docker_image": {
      const hash = sourceHashOf(b);
      return hash !== undefined ? `built: \`${text(b.name)}\`, source hash \`${hash.slice(0, 12).toLowerCase()}\`` : `pulled: \`${text(b.name)}\``;
    }
    case "docker_container":
      return `container \`${text(b.name)}\`, image \`${imageName(b.image)}\`, memory ${text(b.memory)} MiB, restart ${text(b.restart)}`;
    case "docker_volume":
      return `volume \`${text(b.name)}\`${asObject(b.lifecycle).prevent_destroy === true ? " (prevent_destroy)" : " (unprotected)"}`;
    case "docker_network":
      return `network \`${text(b.name)}\``;
    case "google_cloud_run_v2_service":
      return `Cloud Run \`${text(b.name)}\` in ${text(b.location)}, ingress ${text(b.ingress)}, deletion_protection ${text(b.deletion_protection ?? false)}`;
    case "google_sql_database_instance":
      return `${text(b.database_version)} ${text(asObject(b.settings).tier)} in ${text(b.region)}, deletion_protection ${text(b.deletion_protection ?? true)}`;
    case "heroku_app":
      return `app \`${text(b.name)}\`, region ${text(b.region)}, stack ${text(b.stack)}`;
    case "heroku_build": {
      const hash = sourceHashOf(b);
      return `remote build${hash !== undefined ? `, source hash \`${hash.slice(0, 12).toLowerCase()}\`` : ""}`;
    }
    case "heroku_formation":
      return `${text(b.quantity)} × ${text(b.size)} ${text(b.type)} dyno(s)`;
    case "heroku_addon":
      return `add-on ${text(b.plan)}`;
    case "google_cloud_run_v2_service_iam_member":
    case "google_project_iam_member":
    case "google_secret_manager_secret_iam_member":
      return `${text(b.member)} → ${text(b.role)}`;
    case "google_project_service":
      return `API \`${text(b.service)}\``;
    case "google_artifact_registry_repository":
      return `${text(b.format)} repository \`${text(b.repository_id)}\` in ${text(b.location)}`;
    case "google_secret_manager_secret":
      return `secret \`${text(b.secret_id)}\``;
    case "google_service_account":
      return `service account \`${text(b.account_id)}\``;
    case "random_password":
      return `generated secret, ${text(b.length)} characters`;
    case "kubernetes_manifest": {
      const m = asObject(b.manifest);
      const meta = asObject(m.metadata);
      const where = `${meta.namespace === undefined ? "" : `${text(meta.namespace)}/`}${text(meta.name)}`;
      const pod = asObject(asObject(asObject(asObject(m.spec).template).spec));
      const images = (Array.isArray(pod.containers) ? pod.containers : []).map((c) => `\`${text(asObject(c as Json).image)}\``);
      return `${text(m.kind)} \`${where}\`${images.length > 0 ? `, image ${images.join(", ")}` : ""}${asObject(b.lifecycle).prevent_destroy === true ? " (prevent_destroy)" : ""}`;
    }
    case "kubernetes_secret_v1":
      return `Secret \`${text(asObject(b.metadata).namespace)}/${text(asObject(b.metadata).name)}\`, keys ${Object.keys(asObject(b.data)).join(", ")} (values read at plan time)`;
    case "docker_tag":
      return `tag \`${text(b.target_image)}\``;
    default:
      return typeof b.name === "string" ? `\`${b.name}\`` : "";
  }
}
