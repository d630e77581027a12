import { outputs, resources, type Json, type TerraformDocument } from "../document";
import { containerOfTerraform } from "../container";
import { RULE_IDS } from "../rule-ids";
import { isSecretName, secretSources, type Finding, type PolicyRule } from "../rule";
import { describeFindings, scanValue } from "../secret-scan";
import { blocksOf, boolOf, isExpression, show } from "../value";

const FIX = "pass it from a sensitive variable, a generated password or a secret reference, never a literal";

/** Attributes that hold a secret by their name (`password`, `password_wo`, `secret_data_wo`, ...): their value must come from a secret source. */
const SECRET_ATTRIBUTE = /^(password(_wo)?|secret_data(_wo)?|private_key(_pem)?|api_key|token|access_token|client_secret|auth_token)$/;

/** The secret kinds a value holds by content (`scanValue`), or undefined; expressions that refer to `sources` may fill credential slots. */
export function contentProblem(text: string, sources: RegExp): string | undefined {
  const found = scanValue(text, (expression) => sources.test(expression));
  return found.length === 0 ? undefined : describeFindings(found);
}

/**
 * Why one environment value leaks a secret, or undefined. A value under a secret name must be
 * an expression that refers to a secret source (deny by default: `${"hunter2"}` is a literal);
 * any value, whatever its name, is scanned by content (secret-scan.ts).
 */
export function secretValueProblem(name: string, value: unknown, sources: RegExp): string | undefined {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
  if (name === "<expression>" && !sources.test(text)) return `an environment entry ${show(text)} is an expression whose name the rule cannot read`;
  if (isSecretName(name) && text !== "" && !(isExpression(text) && sources.test(text))) {
    return isExpression(text)
      ? `environment variable ${name} is an expression that does not come from a secret source`
      : `environment variable ${name} holds a literal secret`;
  }
  const kinds = contentProblem(text, sources);
  return kinds === undefined ? undefined : `environment variable ${name} holds a secret by its content (${kinds})`;
}

/** The secret-literal findings of one container's environment, `[name, value]` pairs or an expression. */
export function envSecretFindings(path: string, env: Array<[string, unknown]> | string | undefined, sources: RegExp): Finding[] {
  if (typeof env === "string") {
    return sources.test(env) ? [] : [{ path, message: `env is ${show(env)}, an expression the rule cannot check for secrets`, fix: FIX }];
  }
  return (env ?? []).flatMap(([name, value]) => {
    const problem = secretValueProblem(name, value, sources);
    return problem === undefined ? [] : [{ path, message: problem, fix: FIX }];
  });
}

/** Every string of a value, with where it is (`env[1]`, `healthcheck.test[3]`, `labels.x`). */
export function stringLeaves(value: unknown, at = ""): Array<[string, string]> {
  if (typeof value === "string") return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${at}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Json).flatMap(([k, v]) => (at === "" && k === "//" ? [] : stringLeaves(v, at === "" ? k : `${at}.${k}`)));
  }
  return [];
}

/** Secrets by content in every string of a body, and literal values under secret attribute names. */
export function bodySecretFindings(path: string, body: unknown, sources: RegExp, what: string, skip: (at: string) => boolean = () => false): Finding[] {
  const findings: Finding[] = [];
  for (const [at, text] of stringLeaves(body)) {
    if (skip(at)) continue;
    const key = at.split(/[.[]/).filter((k) => k !== "" && !k.endsWith("]")).at(-1) ?? "";
    // An attribute named as a secret (password_wo), or a map entry named as an environment variable that holds one (sensitive_config_vars.DB_PASSWORD).
    const secretKey = SECRET_ATTRIBUTE.test(key) || (/^[A-Z][A-Z0-9_]*$/.test(key) && isSecretName(key));
    if (secretKey && text !== "" && !(isExpression(text) && sources.test(text))) {
      findings.push({ path, message: `${what} ${at} is a secret that does not come from a secret source`, fix: FIX });
      continue;
    }
    const kinds = contentProblem(text, sources);
    if (kinds !== undefined) findings.push({ path, message: `${what} ${at} holds a secret by its content (${kinds})`, fix: FIX });
  }
  return findings;
}

function cloudRunEnvFindings(doc: TerraformDocument, sources: RegExp): Finding[] {
  const findings: Finding[] = [];
  for (const r of resources(doc, "google_cloud_run_v2_service")) {
    const template = blocksOf(r.config.template);
    if (r.config.dynamic !== undefined || (template.known && template.value[0]?.dynamic !== undefined)) {
      findings.push({ path: r.path, message: "the service has dynamic blocks the rule cannot check for secrets", fix: FIX });
      continue;
    }
    const containers = template.known ? blocksOf(template.value[0]?.containers) : template;
    if (!containers.known) {
      findings.push({ path: r.path, message: `the containers are ${show(containers.raw)}, an expression the rule cannot check for secrets`, fix: FIX });
      continue;
    }
    for (const c of containers.value) {
      const env = blocksOf(c.env);
      const pairs: Array<[string, unknown]> | string = env.known
        ? env.value.filter((e: Json) => e.value_source === undefined || e.value !== undefined).map((e: Json) => [String(e.name), e.value])
        : String(env.raw);
      findings.push(...envSecretFindings(r.path, pairs, sources));
    }
  }
  return findings;
}

/** WEEK-SECRET-001: no secret is written literally, and no output shows one. */
export const secretLiterals: PolicyRule = {
  id: RULE_IDS.secretLiterals,
  statement:
    "No secret is written literally anywhere in the document: environment variables named as secrets come from secret sources, every string (env, command, healthcheck, labels, uploads, config vars, provisioners, outputs, variables) is scanned by content, and outputs that carry a secret are sensitive.",
  check(doc): Finding[] {
    const sources = secretSources(doc);
    const findings: Finding[] = [];
    for (const output of outputs(doc)) {
      const text = JSON.stringify(output.value ?? "");
      const carries = isSecretName(output.name) || sources.test(text) || contentProblem(text, /$^/) !== undefined;
      const sensitive = boolOf(output.sensitive);
      if (carries && !(sensitive.known && sensitive.value)) {
        findings.push({ path: output.path, message: `output ${output.name} carries a secret but is not sensitive`, fix: "set sensitive: true on the output" });
      }
      findings.push(...bodySecretFindings(output.path, output.value, sources, `output ${output.name}`));
    }
    // Environment variables: by name and by content.
    for (const r of resources(doc, "docker_container")) findings.push(...envSecretFindings(r.path, containerOfTerraform(r.path, r.config).env, sources));
    findings.push(...cloudRunEnvFindings(doc, sources));
    // Provisioner environments are environment variables too.
    for (const r of resources(doc)) {
      const provisioners = blocksOf(r.config.provisioner);
      for (const p of provisioners.known ? provisioners.value : []) {
        const environment = ((p["local-exec"] ?? {}) as Json).environment;
        if (environment !== undefined && environment !== null && typeof environment === "object") {
          findings.push(...envSecretFindings(r.path, Object.entries(environment as Json), sources));
        }
      }
    }
    // Every other string of every resource, data source, variable default, local and provider, by content
    // (environment entries were judged above, by name and content).
    const envLike = (type: string, at: string) =>
      (type === "docker_container" && /^env\[/.test(at)) || (type === "google_cloud_run_v2_service" && /\.env\[\d+\]\.value$/.test(at)) || /provisioner\[\d+\]\.local-exec\.environment\./.test(at);
    for (const r of resources(doc)) {
      const body = Object.fromEntries(Object.entries(r.config).filter(([k]) => k !== "//"));
      findings.push(...bodySecretFindings(r.path, body, sources, `${r.type}.${r.name}`, (at) => envLike(r.type, at)));
    }
    // A sensitive variable, or one named as a secret, takes its value at plan time: a literal default would be written in cdktf.out.
    for (const [name, raw] of Object.entries((doc.json.variable ?? {}) as Record<string, Json>)) {
      const fallback = raw?.default;
      const sensitive = boolOf(raw?.sensitive);
      const secret = !sensitive.known || sensitive.value || isSecretName(name);
      const empty = fallback === undefined || fallback === null || fallback === "" || (typeof fallback === "object" && Object.keys(fallback).length === 0);
      if (secret && !empty) {
        findings.push({ path: `variable.${name}`, message: `variable ${name} holds a secret but has a literal default`, fix: "give it no default (or an empty one) and pass it as TF_VAR_" + name });
      }
    }
    for (const [section, label] of [["data", "data"], ["variable", "variable"], ["locals", "locals"], ["provider", "provider"]] as const) {
      const value = doc.json[section];
      if (value !== undefined) findings.push(...bodySecretFindings(section, value, sources, label));
    }
    return findings;
  },
};
