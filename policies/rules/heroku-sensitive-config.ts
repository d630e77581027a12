import { resources } from "../document";
import { isSecretName, type Finding, type PolicyRule } from "../rule";
import { describeFindings, scanValue } from "../secret-scan";
import { show } from "../value";
import { RULE_IDS } from "../rule-ids";

/** WEEK-HEROKU-001: Heroku secrets go in sensitive config vars only. */
export const herokuSensitiveConfig: PolicyRule = {
  id: RULE_IDS.herokuSensitiveConfig,
  statement: "Heroku config vars that hold secrets (by name or by their content) are sensitive_config_vars / sensitive_vars, never plain config_vars.",
  check(doc): Finding[] {
    return resources(doc, "heroku_app", "heroku_config", "heroku_app_config_association").flatMap((r) => {
      const field = r.type === "heroku_app" ? "config_vars" : "vars";
      const fix = r.type === "heroku_app" ? "move it to sensitive_config_vars" : "move it to sensitive_vars";
      const plain = r.config[field];
      if (plain === undefined || plain === null) return [];
      if (typeof plain !== "object") return [{ path: r.path, message: `${field} is ${show(plain)}, an expression the rule cannot check for secrets`, fix }];
      return Object.entries(plain as Record<string, unknown>).flatMap(([name, value]) => {
        const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
        if (isSecretName(name)) return [{ path: r.path, message: `config var ${name} is a secret in plain ${field}`, fix }];
        // Plain config vars are shown by `heroku config` and in the plan: no credential slot may be filled there, not even by a reference.
        const found = scanValue(text, () => false);
        if (found.length > 0) return [{ path: r.path, message: `config var ${name} holds a secret by its content (${describeFindings(found)}) in plain ${field}`, fix }];
        return [];
      });
    });
  },
};
