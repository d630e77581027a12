import { outputs, resources, type Json } from "../document";
import { containerOfTerraform } from "../container";
import { isSecretName, secretSources, urlUserinfo, type Finding, type PolicyRule } from "../rule";
import { blocksOf, boolOf, isExpression, show } from "../value";

const FIX = "pass it from a sensitive variable, a generated password or a secret reference, never a literal";

/**
 * Why one environment value leaks a secret, or undefined. A value under a secret name must be
 * an expression that refers to a secret source (deny by default: `${"hunter2"}` is a literal);
 * any value holding a URL with a literal password, or a token as the user of an http(s) or git
 * URL, is a literal secret whatever its name.
 */
export function secretValueProblem(name: string, value: unknown, sources: RegExp): string | undefined {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
  if (name === "<expression>" && !sources.test(text)) return `an environment entry ${show(text)} is an expression whose name the rule cannot read`;
  if (isSecretName(name) && text !== "" && !(isExpression(text) && sources.test(text))) {
    return isExpression(text)
      ? `environment variable ${name} is an expression that does not come from a secret source`
      : `environment variable ${name} holds a literal secret`;
  }
  for (const info of urlUserinfo(text)) {
    if (info.password !== undefined && info.password !== "" && !(isExpression(info.password) && sources.test(info.password))) {
      return `environment variable ${name} holds a URL with a literal password`;
    }
    if (info.password === undefined && /^(https?|git|ssh|ftp)$/.test(info.scheme) && !isExpression(info.user) && info.user !== "git") {
      return `environment variable ${name} holds a ${info.scheme} URL with credentials as its user`;
    }
  }
  return undefined;
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

/** WEEK-SECRET-001: no secret is written literally, and no output shows one. */
export const secretLiterals: PolicyRule = {
  id: "WEEK-SECRET-001",
  statement: "Secrets are never literal values in environment variables (by name or as URL credentials), and outputs that carry one are sensitive.",
  check(doc): Finding[] {
    const sources = secretSources(doc);
    const findings: Finding[] = [];
    for (const output of outputs(doc)) {
      const text = JSON.stringify(output.value ?? "");
      const carries = isSecretName(output.name) || sources.test(text) || urlUserinfo(text).some((u) => u.password !== undefined);
      const sensitive = boolOf(output.sensitive);
      if (carries && !(sensitive.known && sensitive.value)) {
        findings.push({ path: output.path, message: `output ${output.name} carries a secret but is not sensitive`, fix: "set sensitive: true on the output" });
      }
    }
    for (const r of resources(doc, "docker_container")) {
      findings.push(...envSecretFindings(r.path, containerOfTerraform(r.path, r.config).env, sources));
    }
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
  },
};
