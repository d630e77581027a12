import type { TerraformDocument } from "./document";
import { scanValue } from "./secret-scan";
import type { RuleId } from "./rule-ids";

/** How a finding counts (cdk-nag's levels): an error stops synth; a warning is reported and synth goes on. */
export type FindingLevel = "error" | "warning";

/** One thing a rule found wrong, at one place of a document. */
export interface Finding {
  /** Where: the construct path (`local/api/service/container`), or a place in the document. */
  readonly path: string;
  /** What is wrong, naming the value where it helps (never a secret). */
  readonly message: string;
  /** How to put it right. */
  readonly fix: string;
}

/**
 * A policy rule: a stable id, a one-line statement of what it demands, and a check of one
 * document. `D` is the kind of document: the week's rules judge Terraform JSON; a rule set for
 * another rendering (the Compose file) keeps the same ids and reuses the shared checks
 * (`container.ts` works on a container described independently of the document).
 */
export interface PolicyRule<D = TerraformDocument> {
  /** Stable id, one of RULE_IDS (rule-ids.ts); suppressions and reviews refer to it. */
  readonly id: RuleId;
  /**
   * What the rule's findings are.
   * @default "error"
   */
  readonly level?: FindingLevel;
  /** One line: what the rule demands. */
  readonly statement: string;
  check(doc: D): Finding[];
}

/**
 * Names that hold secrets: passwords (PASS, PASSWD, PWD), tokens (`*_TOKEN`), keys (`*_KEY`, `API_KEY*`), secrets,
 * credentials, connection strings and URLs of databases (`DATABASE_URL`, `SQLALCHEMY_DATABASE_URI`,
 * `*_DSN`), signatures and salts.
 */
export const SECRET_NAME =
  /(PASSW(OR)?D|PASSPHRASE|(^|_)PASS($|_)|(^|_)PWD$|SECRET|TOKENS?$|API_?KEY|PRIVATE_?KEY|(^|_)KEYS?$|CREDENTIAL|(^|_)AUTH($|_)|DATABASE_UR[IL]|(^|_)DB_UR[IL]|_DSN$|^DSN$|CONN(ECTION)?_?STR(ING)?|(^|_)SALT$|SIGNATURE)/i;

/** True when a variable's name says it holds a secret; `*_FILE`, `*_PATH` and `*_DIR` name where one is kept (the official images' convention), not the secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !/_(FILE|PATH|DIR)$/i.test(name);
}

/** The userinfo of every URL in a text (`scheme://user[:password]@`), with whether a password part is there. */
export function urlUserinfo(text: string): Array<{ scheme: string; user: string; password?: string }> {
  const found: Array<{ scheme: string; user: string; password?: string }> = [];
  // The userinfo ends at the last @ before the path; it may hold ${...} expressions.
  for (const m of text.matchAll(/([a-zA-Z][a-zA-Z0-9+.-]*):\/\/((?:\$\{[^}]*\}|[^\s/?#@"])*)@/g)) {
    const userinfo = m[2];
    const colon = userinfo.replace(/\$\{[^}]*\}/g, (e) => "x".repeat(e.length)).indexOf(":");
    found.push(
      colon < 0
        ? { scheme: m[1].toLowerCase(), user: userinfo }
        : { scheme: m[1].toLowerCase(), user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) },
    );
  }
  return found;
}

/**
 * What in a document is known to be secret: generated passwords, sensitive variables, secret
 * versions, `sensitive(...)`, and locals whose value is one of those. A value that refers to
 * one of them came from a secret source rather than from a literal.
 */
const sourcesCache = new WeakMap<object, RegExp>();

export function secretSources(doc: TerraformDocument): RegExp {
  const cached = sourcesCache.get(doc.json);
  if (cached !== undefined) return cached;
  const computed = computeSecretSources(doc);
  sourcesCache.set(doc.json, computed);
  return computed;
}

/**
 * The one idea of a secret, shared by the rules and the review page (`npm run review` hides
 * such values): a value is secret when its name says so (`isSecretName`: passwords, tokens,
 * keys, `DATABASE_URL`, `SQLALCHEMY_DATABASE_URI`...), when it refers to a secret source of
 * the document (`secretSources`), or when its content holds a credential (secret-scan.ts).
 */
export function carriesSecret(doc: TerraformDocument, name: string, value: unknown): boolean {
  if (isSecretName(name)) return true;
  const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
  if (secretSources(doc).test(text)) return true;
  return scanValue(text, () => false).length > 0;
}

function computeSecretSources(doc: TerraformDocument): RegExp {
  const sensitiveVars = Object.entries((doc.json.variable ?? {}) as Record<string, { sensitive?: unknown }>)
    .filter(([, v]) => v.sensitive === true)
    .map(([name]) => name);
  const base = [
    String.raw`\brandom_password\.[\w-]+\.(result|bcrypt_hash)\b`,
    String.raw`\bsensitive\(`,
    String.raw`\.secret_data\b`,
    // The provider's short-lived token, computed at plan time and marked sensitive by the provider.
    String.raw`\bdata\.google_client_config\.[\w-]+\.access_token\b`,
    String.raw`\bephemeral\.`,
    ...sensitiveVars.map((v) => String.raw`\bvar\.${v}\b`),
  ];
  const locals = (doc.json.locals ?? {}) as Record<string, unknown>;
  const secretLocals = new Set<string>();
  // A local is secret when its value refers to a secret source or to a secret local (to a fixpoint).
  for (let changed = true; changed; ) {
    changed = false;
    const pattern = new RegExp([...base, ...[...secretLocals].map((l) => String.raw`\blocal\.${l}\b`)].join("|"));
    for (const [name, value] of Object.entries(locals)) {
      // A local wrapped whole in nonsensitive(...) is declared not secret by its author (a user name read from an env file).
      if (typeof value === "string" && /^\$\{nonsensitive\(.*\)\}$/s.test(value)) continue;
      if (!secretLocals.has(name) && pattern.test(JSON.stringify(value))) {
        secretLocals.add(name);
        changed = true;
      }
    }
  }
  return new RegExp([...base, ...[...secretLocals].map((l) => String.raw`\blocal\.${l}\b`)].join("|"));
}
