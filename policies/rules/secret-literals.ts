import { blocks, hasLiteralCredentials, isLiteral, outputOf, resourceOf, SECRET_NAME, type Finding, type PolicyRule } from "../rule";

/** Values that Terraform knows to be secret: generated passwords, sensitive variables and wrappers. */
const SECRET_EXPRESSION = /random_password\.|sensitive\(|var\.(jupyter_token|git_token)|secret_data|access_token/;

function envPairs(type: string, config: Record<string, unknown>): Array<[string, unknown]> {
  if (type === "docker_container") {
    return ((config.env as string[] | undefined) ?? []).map((entry) => {
      const at = entry.indexOf("=");
      return [entry.slice(0, at), entry.slice(at + 1)];
    });
  }
  const containers = blocks((config.template as { containers?: unknown } | undefined)?.containers);
  return containers.flatMap((c) => blocks(c.env).map((e) => [e.name as string, e.value] as [string, unknown]));
}

/** WEEK-SECRET-001: no secret is written literally, and no output shows one. */
export const secretLiterals: PolicyRule = {
  id: "WEEK-SECRET-001",
  statement: "Secrets are never literal values in environment variables, and outputs that carry one are sensitive.",
  check(node): Finding[] {
    const output = outputOf(node);
    if (output !== undefined) {
      const text = JSON.stringify(output.value);
      if (!output.sensitive && (SECRET_NAME.test(output.name) || SECRET_EXPRESSION.test(text) || hasLiteralCredentials(output.value))) {
        return [{ message: `output ${output.name} carries a secret but is not sensitive`, fix: "set sensitive: true on the output" }];
      }
      return [];
    }
    const found = resourceOf(node, "docker_container", "google_cloud_run_v2_service");
    if (found === undefined) return [];
    return envPairs(found.type, found.config)
      .filter(([name, value]) => (SECRET_NAME.test(name) && isLiteral(value)) || hasLiteralCredentials(value))
      .map(([name]) => ({
        message: `environment variable ${name} holds a literal secret`,
        fix: "pass it from a sensitive variable, a generated password or a secret reference, never a literal",
      }));
  },
};
