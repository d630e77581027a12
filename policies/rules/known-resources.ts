import { attributeEntry, DATA_TYPES, RESOURCE_TYPES, stackTable, TOP_LEVEL, type TypeEntry } from "../allow-list";
import { dataSources, resources, type Json, type Resource } from "../document";
import { RULE_IDS } from "../rule-ids";
import type { Finding, PolicyRule } from "../rule";
import { show } from "../value";

/** Every attribute a resource body sets, as `[path, value]`: keys joined by dots, lists and blocks flattened, `//` metadata left out. */
export function attributeLeaves(body: Json): Array<[string, unknown]> {
  const leaves: Array<[string, unknown]> = [];
  const walk = (value: unknown, at: string) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (value.length === 0) return;
      if (value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) for (const v of value) walk(v, at);
      else leaves.push([at, value]);
      return;
    }
    if (typeof value === "object") {
      for (const [key, v] of Object.entries(value as Json)) if (!(at === "" && key === "//")) walk(v, at === "" ? key : `${at}.${key}`);
      return;
    }
    leaves.push([at, value]);
  };
  walk(body, "");
  return leaves;
}

const FIX_TYPE = "build it from a construct whose type the pack admits, or add the type to the stack's table in policies/allow-list.ts with the rules that judge it and bad/good cases";
const FIX_ATTRIBUTE = "drop the attribute, or declare it in policies/allow-list.ts with the rule that judges its value and bad/good cases";

function attributeFindings(r: Resource, entry: TypeEntry, kind: string): Finding[] {
  const findings: Finding[] = [];
  for (const [at, value] of attributeLeaves(r.config)) {
    const declared = attributeEntry(entry, at);
    if (declared === undefined) {
      findings.push({ path: r.path, message: `${kind} ${r.type}.${r.name} sets ${at}, which no rule of the pack declares safe`, fix: FIX_ATTRIBUTE });
      continue;
    }
    const problem = declared.value?.(value);
    if (problem !== undefined) findings.push({ path: r.path, message: `${kind} ${r.type}.${r.name} sets ${at}: ${problem}`, fix: FIX_ATTRIBUTE });
  }
  return findings;
}

/** WEEK-PACK-001: a stack holds only the resource types, attributes, data sources and providers the pack admits for it. */
export const knownResources: PolicyRule = {
  id: RULE_IDS.knownResources,
  statement:
    "A stack holds only the resource types, data sources, providers and top-level blocks its table in the pack admits, and each resource sets only attributes some rule declares safe (deny what is not known).",
  check(doc): Finding[] {
    const table = stackTable(doc.stack);
    const findings: Finding[] = [];
    for (const key of Object.keys(doc.json)) {
      if (!(TOP_LEVEL as readonly string[]).includes(key)) findings.push({ path: key, message: `the document has a top-level ${key} block, which the pack does not read`, fix: FIX_TYPE });
    }
    // Where the state goes: it holds every generated secret, so only a local backend is admitted.
    const terraform = (doc.json.terraform ?? {}) as Json;
    for (const [key, value] of Object.entries(terraform)) {
      if (key === "backend") {
        const kinds = value !== null && typeof value === "object" ? Object.keys(value as Json) : [String(value)];
        if (kinds.some((k) => k !== "local")) findings.push({ path: "terraform.backend", message: `the state goes to backend ${kinds.join(", ")}, not a local file`, fix: "keep the local backend the stacks write (the state holds the generated secrets)" });
      } else if (!["required_providers", "required_version", "//"].includes(key)) {
        findings.push({ path: `terraform.${key}`, message: `the terraform block sets ${key}, which the pack does not admit`, fix: FIX_TYPE });
      }
    }
    for (const provider of Object.keys((doc.json.provider ?? {}) as Json)) {
      if (!table.providers.includes(provider)) findings.push({ path: `provider.${provider}`, message: `provider ${provider} is not one the pack admits in stack ${doc.stack}`, fix: FIX_TYPE });
    }
    const section = doc.json.resource;
    if (section !== undefined && (section === null || typeof section !== "object" || Array.isArray(section))) {
      findings.push({ path: "resource", message: `the resource block is ${show(section)}, which the pack cannot read`, fix: FIX_TYPE });
    }
    for (const r of resources(doc)) {
      const entry = RESOURCE_TYPES[r.type];
      if (!table.resources.includes(r.type) || entry === undefined) {
        findings.push({ path: r.path, message: `resource type ${r.type} (${r.type}.${r.name}) is not one the pack admits in stack ${doc.stack}`, fix: FIX_TYPE });
        continue;
      }
      findings.push(...attributeFindings(r, entry, "resource"));
    }
    const dataTypes = Object.keys((doc.json.data ?? {}) as Json);
    for (const d of dataSources(doc, ...dataTypes)) {
      const entry = DATA_TYPES[d.type];
      if (!table.data.includes(d.type) || entry === undefined) {
        findings.push({ path: `data.${d.type}.${d.name}`, message: `data source ${d.type} is not one the pack admits in stack ${doc.stack}`, fix: FIX_TYPE });
        continue;
      }
      findings.push(...attributeFindings({ ...d, path: `data.${d.type}.${d.name}` }, entry, "data source"));
    }
    return findings;
  },
};
