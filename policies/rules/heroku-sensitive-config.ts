import { resourceOf, SECRET_NAME, type Finding, type PolicyRule } from "../rule";

/** WEEK-HEROKU-001: Heroku secrets go in sensitive config vars only. */
export const herokuSensitiveConfig: PolicyRule = {
  id: "WEEK-HEROKU-001",
  statement: "Heroku config vars that hold secrets are sensitive_config_vars / sensitive_vars, never plain config_vars.",
  check(node): Finding[] {
    const found = resourceOf(node, "heroku_app", "heroku_config", "heroku_app_config_association");
    if (found === undefined) return [];
    const plain = (found.type === "heroku_app" ? found.config.config_vars : found.config.vars) as Record<string, unknown> | undefined;
    return Object.keys(plain ?? {})
      .filter((name) => SECRET_NAME.test(name))
      .map((name) => ({
        message: `config var ${name} is a secret in plain config vars`,
        fix: found.type === "heroku_app" ? "move it to sensitive_config_vars" : "move it to sensitive_vars",
      }));
  },
};
