import { dataSources, declares, resources, type Json, type TerraformDocument } from "../document";
import type { Finding, PolicyRule } from "../rule";
import { blocksOf, boolOf, isExpression, show } from "../value";
import { RULE_IDS } from "../rule-ids";

const PUBLIC = /^(allUsers|allAuthenticatedUsers|principalSet:\/\/goog\/public:all)$/i;
/** A member whose literal type prefix names one identity or group (the rest may be an expression). */
const NAMED_MEMBER = /^(user|serviceAccount|group|domain|principal|deleted:serviceAccount|deleted:user|deleted:group):./;

/** Cloud Run IAM resources: v2 and v1, member, binding and policy. */
const RUN_IAM = ["v2_service", "service"].flatMap((kind) => ["member", "binding", "policy"].map((form) => `google_cloud_run_${kind}_iam_${form}`));
/** IAM above the service grants run.invoker on every service under it. */
const PARENT_IAM = ["project", "folder", "organization"].flatMap((level) => ["member", "binding", "policy"].map((form) => `google_${level}_iam_${form}`));

/** Why a member may be anyone, or undefined when it provably names one identity or group. */
function memberProblem(doc: TerraformDocument, member: unknown): string | undefined {
  if (typeof member !== "string") return `member ${show(member)} is not one the rule can read`;
  if (PUBLIC.test(member.trim())) return `${member.trim()} is granted`;
  if (NAMED_MEMBER.test(member)) return undefined;
  const account = /^\$\{google_service_account\.([\w-]+)\.member\}$/.exec(member);
  if (account !== null && declares(doc, "google_service_account", account[1])) return undefined;
  if (isExpression(member)) return `member ${show(member)} is an expression the rule cannot prove is not allUsers`;
  // Deny by default: a member that names no identity or group by a known prefix may be anyone.
  return `member ${show(member)} is not one the rule can prove names an identity or a group`;
}

/** The bindings (role and members) of an IAM policy document: a literal JSON string or a google_iam_policy data source. */
function policyBindings(doc: TerraformDocument, policyData: unknown): Array<{ role: unknown; members: unknown[] }> | string {
  if (typeof policyData !== "string") return `policy_data ${show(policyData)} is not one the rule can read`;
  const ref = /^\$\{data\.google_iam_policy\.([\w-]+)\.policy_data\}$/.exec(policyData);
  if (ref !== null) {
    const source = dataSources(doc, "google_iam_policy").find((d) => d.name === ref[1]);
    if (source === undefined) return `policy_data refers to a google_iam_policy the document does not declare`;
    if (source.config.dynamic !== undefined) return `the google_iam_policy ${ref[1]} has dynamic blocks the rule cannot read`;
    const bindings = blocksOf(source.config.binding);
    if (!bindings.known) return `the policy's bindings are an expression the rule cannot read`;
    return bindings.value.map((b: Json) => ({ role: b.role, members: Array.isArray(b.members) ? b.members : [b.members] }));
  }
  if (isExpression(policyData)) return `policy_data ${show(policyData)} is an expression the rule cannot read`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(policyData);
  } catch {
    return "policy_data is not JSON";
  }
  // The provider decodes policy_data with Go's encoding/json, which matches keys in any case ("Bindings", "MEMBERS").
  const field = (o: unknown, name: string): unknown => {
    if (o === null || typeof o !== "object" || Array.isArray(o)) return undefined;
    const entries = Object.entries(o as Json).filter(([k]) => k.toLowerCase() === name);
    return entries.at(-1)?.[1];
  };
  const bindings = field(parsed, "bindings") ?? [];
  if (!Array.isArray(bindings)) return `policy_data's bindings are not a list the rule can read`;
  return bindings.map((b) => {
    const members = field(b, "members") ?? [];
    return { role: field(b, "role"), members: Array.isArray(members) ? members : [members] };
  });
}

/** Each (role, member) an IAM resource grants, or a problem when it cannot be read. */
function grants(doc: TerraformDocument, type: string, config: Json): Array<{ role: unknown; member: unknown }> | string {
  if (config.dynamic !== undefined) return `the grant has dynamic blocks the rule cannot read`;
  if (type.endsWith("_member")) return [{ role: config.role, member: config.member }];
  if (type.endsWith("_binding")) {
    if (!Array.isArray(config.members)) return `members ${show(config.members)} is an expression the rule cannot read`;
    return config.members.map((member) => ({ role: config.role, member }));
  }
  const bindings = policyBindings(doc, config.policy_data);
  return typeof bindings === "string" ? bindings : bindings.flatMap((b) => b.members.map((member) => ({ role: b.role, member })));
}

/** Roles that let callers invoke Cloud Run, or may: predefined run roles, basic roles, and any custom role (projects/../roles/.., organizations/../roles/..), which may hold run.routes.invoke. */
/** Every annotation map of a Cloud Run service (v2 `annotations`, `template.annotations`; v1 `metadata.annotations`, `template.metadata.annotations`). */
function annotationsOf(config: Json): Array<[string, unknown]> {
  const first = (v: unknown): Json => (Array.isArray(v) ? ((v[0] ?? {}) as Json) : ((v ?? {}) as Json));
  const template = first(config.template);
  return [
    ["annotations", config.annotations],
    ["metadata.annotations", first(config.metadata).annotations],
    ["template.annotations", template.annotations],
    ["template.metadata.annotations", first(template.metadata).annotations],
  ];
}

const INVOKER_ROLES = /^(roles\/(run\.(invoker|admin|developer|servicesInvoker|sourceDeveloper)|owner|editor)|(projects|organizations)\/[^/]+\/roles\/.+)$/;
const FIX = "set gcp.allowPublicAccess to opt in (it records the reason), or grant run.invoker on the service to named identities";

/** WEEK-GCP-004: Cloud Run is invoked publicly only by explicit opt-in. */
export const gcpRunNoPublicInvoke: PolicyRule = {
  id: RULE_IDS.gcpRunNoPublicInvoke,
  statement:
    "No Cloud Run service is open to allUsers or allAuthenticatedUsers (service IAM member, binding or policy in any key case, run or custom roles on the project, folder or organisation, dynamic grants, invoker IAM disabled by attribute or annotation) unless gcp.allowPublicAccess opts in.",
  check(doc): Finding[] {
    const findings: Finding[] = [];
    for (const r of resources(doc, ...RUN_IAM, ...PARENT_IAM)) {
      const parent = PARENT_IAM.includes(r.type);
      const granted = grants(doc, r.type, r.config);
      if (typeof granted === "string") {
        if (!parent) findings.push({ path: r.path, message: granted, fix: FIX });
        continue;
      }
      for (const { role, member } of granted) {
        // Above the service, only a role that lets callers invoke Cloud Run matters (or one the rule cannot read).
        // Anyone (allUsers) is never granted anything, whatever the role.
        if (parent && typeof role === "string" && !isExpression(role) && !INVOKER_ROLES.test(role) && !(typeof member === "string" && PUBLIC.test(member.trim()))) continue;
        const problem = memberProblem(doc, member);
        if (problem !== undefined) findings.push({ path: r.path, message: parent ? `${problem} ${show(role)} on the whole ${r.type.split("_")[1]}` : problem, fix: FIX });
      }
    }
    // The v1 API (and v2's annotations) open a service by annotation: run.googleapis.com/invoker-iam-disabled.
    for (const r of resources(doc, "google_cloud_run_v2_service", "google_cloud_run_service")) {
      for (const [where, annotations] of annotationsOf(r.config)) {
        if (annotations === undefined) continue;
        if (annotations === null || typeof annotations !== "object") {
          findings.push({ path: r.path, message: `${where} is ${show(annotations)}, an expression the rule cannot check`, fix: FIX });
          continue;
        }
        for (const [key, value] of Object.entries(annotations as Json)) {
          const off = boolOf(value);
          if (/invoker/i.test(key) && !(off.known && !off.value)) {
            findings.push({ path: r.path, message: `${where} sets ${key} to ${show(value)}: anyone may invoke the service`, fix: FIX });
          }
        }
      }
    }
    for (const r of resources(doc, "google_cloud_run_v2_service")) {
      const disabled = boolOf(r.config.invoker_iam_disabled);
      if (!disabled.known || disabled.value) {
        findings.push({ path: r.path, message: `invoker_iam_disabled is ${show(r.config.invoker_iam_disabled)}: anyone may invoke the service`, fix: FIX });
      }
    }
    return findings;
  },
};

/** WEEK-GCP-005: Cloud Run runs as a dedicated service account. */
export const gcpRunDedicatedAccount: PolicyRule = {
  id: RULE_IDS.gcpRunDedicatedAccount,
  statement: "Cloud Run services run as a dedicated service account, never the default compute account.",
  check(doc): Finding[] {
    return resources(doc, "google_cloud_run_v2_service").flatMap((r) => {
      const template = blocksOf(r.config.template);
      const account = template.known ? template.value[0]?.service_account : template.raw;
      const fix = "create a google_service_account for it and set template.service_account";
      if (typeof account === "string" && !isExpression(account) && account !== "" && !account.endsWith("-compute@developer.gserviceaccount.com")) return [];
      const ref = typeof account === "string" ? /^\$\{google_service_account\.([\w-]+)\.(email|member)\}$/.exec(account) : null;
      if (ref !== null && declares(doc, "google_service_account", ref[1])) return [];
      const message =
        account === undefined
          ? "the service runs as the default compute account"
          : isExpression(account)
            ? `the service account ${show(account)} is an expression the rule cannot prove dedicated`
            : `the service runs as ${show(account)}`;
      return [{ path: r.path, message, fix }];
    });
  },
};
