/**
 * Secrets found by content, whatever name carries them: the one scanner of the week's policies
 * (every string a container, a service or a config var receives) and of the build contexts
 * (every file a Dockerfile may copy).
 *
 * Two layers:
 * - the rules of secretlint's recommended preset (`@secretlint/secretlint-rule-preset-recommend`,
 *   pinned): provider token formats (GitHub, Slack, Stripe, OpenAI, npm, GitLab, SendGrid,
 *   Shopify, Vault, ...), AWS secret keys, private key blocks, connection strings with a
 *   password. They are run synchronously through the rule-module contract (`create(context)`
 *   returning a `file(source)` handler); the preset's comment filter is not run, so a
 *   `secretlint-disable` comment inside a scanned value cannot hide what follows it;
 * - the forms secretlint does not read, as allow-lists of what a credential looks like: a URL
 *   with a password in its user info or a token as its user, a password-like parameter
 *   (`?password=`, JDBC `;password=`, a libpq DSN `host=.. password=..`, `#access_token=`,
 *   `--password=`), AWS access key ids, Google API keys, JSON Web Tokens, PGP/PuTTY/any
 *   `PRIVATE KEY` block.
 *
 * A finding says what kind of secret and where it starts (`{ kind, index, end }`), never the
 * value. `scanValue` judges a Terraform value: an expression that refers to a secret source
 * (a sensitive variable, a generated password) stands for a secret that is not in the
 * document, so a credential slot holding only such references is allowed; any other
 * expression in a credential slot is unknown, hence a finding.
 */
// The preset is an ES module; Node (>= 20.19) and jest (transformed, jest.config.js) load it by require.
const preset = require("@secretlint/secretlint-rule-preset-recommend") as { rules: readonly SecretlintRule[] };

/** One secret found in a text: its kind and the span it occupies, never the value. */
export interface SecretFinding {
  /** What was found: `url-password`, `password-parameter`, `jwt`, `secretlint/github:GITHUB_TOKEN`, ... */
  readonly kind: string;
  /** Where the secret (or the credential slot that holds it) starts in the text. */
  readonly index: number;
  /** Where it ends (exclusive). */
  readonly end: number;
}

// The part of secretlint's rule-module contract the preset's scanner rules use.
interface SecretlintRule {
  readonly meta: { readonly id: string; readonly type?: string };
  readonly messages?: unknown;
  create(context: unknown, options: unknown): { file?: (source: unknown) => unknown } | undefined;
}

/** Rules of the preset that filter others' findings rather than find secrets; not run (a scanned value must not silence the scan). */
const FILTER_RULES = new Set(["@secretlint/secretlint-rule-filter-comments"]);
/** Options per preset rule (none: each rule's defaults; AWS access key ids are matched by `aws-access-key-id` below, account ids are not secrets). */
const RULE_OPTIONS: Record<string, unknown> = {};

function secretlintFindings(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const indexToPosition = (index: number) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= index) line++;
    return { line: line + 1, column: index - lineStarts[line] };
  };
  const source = {
    content: text,
    filePath: "value.txt",
    ext: ".txt",
    contentType: "text",
    indexToPosition,
    locationToRange: (loc: { start: { line: number; column: number }; end: { line: number; column: number } }) => [
      lineStarts[loc.start.line - 1] + loc.start.column,
      lineStarts[loc.end.line - 1] + loc.end.column,
    ],
  };
  for (const rule of preset.rules) {
    const id = rule.meta.id;
    if (FILTER_RULES.has(id) || rule.meta.type === "filter") continue;
    const short = id.replace(/^@secretlint\/secretlint-rule-/, "");
    const context = {
      createTranslator: () => (messageId: string) => ({ messageId }),
      report: (descriptor: { message: { messageId?: string } | string; range: [number, number] }) => {
        const messageId = typeof descriptor.message === "object" ? descriptor.message.messageId : undefined;
        found.push({ kind: `secretlint/${short}${messageId === undefined ? "" : `:${messageId}`}`, index: descriptor.range[0], end: descriptor.range[1] });
      },
      ignore: () => undefined,
      registerRule: () => undefined,
    };
    const handlers = rule.create(context, RULE_OPTIONS[id] ?? {});
    handlers?.file?.(source);
  }
  return found;
}

/** Names of parameters and assignments that hold a credential (`password=`, `PGPASSWORD=`, `access_token=`, `client_secret=`). */
// The prefix is bounded: unbounded, a long run of name characters is re-read from every position (quadratic).
const CREDENTIAL_NAME = String.raw`[A-Za-z0-9_.-]{0,64}?(?:pass(?:w(?:or)?d)?|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|credentials?|signature|sig)`;
/** `name=value` where the name holds a credential, after a separator (query, JDBC `;`, DSN space, fragment, flag dashes) or at the start. */
const CREDENTIAL_PARAMETER = new RegExp(String.raw`(?<![A-Za-z0-9])(${CREDENTIAL_NAME})\s*=\s*('[^']*'|"[^"]*"|[^\s&;#"',)\\]*)`, "gi");
/**
 * `name: value` at the end of a line (YAML, a kubeconfig's `token:`, `.yarnrc.yml`'s `npmAuthToken:`,
 * INI with colons), where the name holds a credential and the value is quoted or a run of 12 or
 * more token characters (a type annotation such as `token: str` is not a value).
 */
const CREDENTIAL_COLON = new RegExp(String.raw`(?<![A-Za-z0-9])(${CREDENTIAL_NAME})["']?[ \t]*:[ \t]*("[^"\n]+"|'[^'\n]+'|[A-Za-z0-9+/=_.~-]{12,})[ \t]*$`, "gim");
/** A command-line flag followed by its value (`--password hunter2`). */
const CREDENTIAL_FLAG = new RegExp(String.raw`(?<![A-Za-z0-9])--?(${CREDENTIAL_NAME})[ \t]+([^\s-][^\s]*)`, "gi");
/** `scheme://userinfo@`: the user info may hold anything but a slash, a space or another @ boundary. */
// The look-behind starts a scheme only where a scheme can start: without it a long run of letters is read from every position (quadratic).
const URL_USERINFO = /(?<![a-zA-Z0-9+.-])([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^\s/?#@"'<>]*)@/g;

const TOKEN_FORMATS: ReadonlyArray<[string, RegExp]> = [
  ["aws-access-key-id", /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])/g],
  ["google-api-key", /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g],
  ["github-token", /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{50,255})(?![A-Za-z0-9_])/g],
  ["jwt", /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ["slack-token", /(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}/g],
  ["stripe-key", /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g],
  ["private-key-block", /-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----/g],
  ["putty-private-key", /PuTTY-User-Key-File-\d+:/g],
  ["heroku-api-key", /(?<![A-Za-z0-9])HRKU-[A-Za-z0-9_-]{20,}/g],
];

/** Unicode private-use characters standing for an expression, so that indexes keep their place. */
const SECRET_REFERENCE = "\uE000";
const OTHER_EXPRESSION = "\uE001";

/** Why a credential slot's value is a finding, or undefined when it is empty, a run-time variable or a secret reference. */
function slotProblem(value: string): "literal" | "expression" | undefined {
  const unquoted = value.replace(/^(['"])(.*)\1$/s, "$2");
  if (unquoted === "") return undefined;
  if (new RegExp(`^${SECRET_REFERENCE}+$`).test(unquoted)) return undefined;
  // A printf directive: the secret is an argument given elsewhere (`printf 'PASSWORD=%s' "$PASSWORD"`).
  if (/^%[-#0 +]*\d*(\.\d+)?[sdqv]$/.test(unquoted)) return undefined;
  // A switch, not a secret (`use_token=true`, `password=none`).
  if (/^(true|false|yes|no|on|off|none|null)$/i.test(unquoted)) return undefined;
  // A shell or Compose variable (`$PGPASSWORD`, `${DB_PASSWORD}`): filled from the environment when it runs.
  if (/^\$?\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$/.test(unquoted)) return undefined;
  if (unquoted.includes(OTHER_EXPRESSION)) return "expression";
  // A password slot that only says where the secret is read from (`password_file=/run/secrets/x`) is named *_file and never matched.
  return "literal";
}

function structuralFindings(text: string): SecretFinding[] {
  const found: SecretFinding[] = [];
  const slot = (kind: string, value: string, index: number) => {
    const problem = slotProblem(value);
    if (problem !== undefined) found.push({ kind: problem === "expression" ? `${kind}-expression` : kind, index, end: index + value.length });
  };
  for (const m of text.matchAll(URL_USERINFO)) {
    const scheme = m[1].toLowerCase();
    const userinfo = m[2];
    const at = m.index + m[1].length + 3;
    const colon = userinfo.indexOf(":");
    if (colon >= 0) slot("url-password", userinfo.slice(colon + 1), at + colon + 1);
    else if (/^(https?|git|ssh|ftps?|sftp|wss?|git\+https?|git\+ssh)$/.test(scheme) && !/^(git|[A-Za-z0-9._-]*user)$/i.test(userinfo)) {
      // A lone user of a web or git URL is how tokens are passed (https://<token>@github.com); a plain account name is allowed.
      if (userinfo.includes(OTHER_EXPRESSION) || /[A-Za-z0-9_-]{20,}/.test(userinfo) || /^(gh[pousr]_|github_pat_|glpat-|x-access-token|oauth2?)/i.test(userinfo)) {
        slot("url-token-user", userinfo, at);
      }
    }
  }
  for (const m of text.matchAll(CREDENTIAL_PARAMETER)) slot("password-parameter", m[2], m.index + m[0].length - m[2].length);
  for (const m of text.matchAll(CREDENTIAL_COLON)) slot("password-parameter", m[2], m.index + m[0].length - m[2].length - (m[0].length - m[0].trimEnd().length));
  for (const m of text.matchAll(CREDENTIAL_FLAG)) slot("password-flag", m[2], m.index + m[0].length - m[2].length);
  for (const [kind, pattern] of TOKEN_FORMATS) {
    for (const m of text.matchAll(pattern)) found.push({ kind, index: m.index, end: m.index + m[0].length });
  }
  return found;
}

function dedupe(findings: SecretFinding[]): SecretFinding[] {
  const seen = new Set<string>();
  return findings
    .sort((a, b) => a.index - b.index || a.kind.localeCompare(b.kind))
    .filter((f) => {
      const key = `${f.kind}@${f.index}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** Every secret in a text (a file, a literal value): secretlint's recommended rules and the structural forms above. */
export function scanText(text: string): SecretFinding[] {
  return dedupe([...secretlintFindings(text), ...structuralFindings(text)]);
}

/** Spans of Terraform template expressions (`${...}`, `%{...}`), braces balanced; `$${` (a literal) and a bare `${NAME}` (a shell variable) skipped. */
export function expressionSpans(text: string): Array<{ start: number; end: number; body: string }> {
  const spans: Array<{ start: number; end: number; body: string }> = [];
  for (let i = 0; i < text.length - 1; i++) {
    if ((text[i] === "$" || text[i] === "%") && text[i + 1] === "{") {
      if (i > 0 && text[i - 1] === text[i]) continue; // $${ or %%{: an escaped literal
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "{") depth++;
        else if (text[j] === "}" && --depth === 0) break;
      }
      const body = text.slice(i, j + 1);
      // `${NAME}` alone is no Terraform reference (those have a dot: var.x, local.y): it is a shell variable, left as text.
      if (!/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(body)) spans.push({ start: i, end: Math.min(j + 1, text.length), body });
      i = j;
    }
  }
  return spans;
}

/**
 * Every secret in a Terraform value. Each expression is first replaced by a stand-in of its
 * length: a secret reference (`isSecretReference(expression)`) may fill a credential slot; any
 * other expression in a credential slot is a finding (`url-password-expression`, ...). Token
 * formats are looked for in the literal text and inside expressions (`${"ghp_..."}` is a literal).
 */
export function scanValue(text: string, isSecretReference: (expression: string) => boolean): SecretFinding[] {
  const spans = expressionSpans(text);
  let masked = text;
  for (const s of spans) {
    const stand = (isSecretReference(s.body) ? SECRET_REFERENCE : OTHER_EXPRESSION).repeat(s.end - s.start);
    masked = masked.slice(0, s.start) + stand + masked.slice(s.end);
  }
  const inSecretReference = (f: SecretFinding) => spans.some((s) => f.index < s.end && f.end > s.start && isSecretReference(s.body));
  // Token formats and secretlint's rules read the original text, except where it is a secret reference.
  const direct = [...secretlintFindings(text), ...structuralFindings(text).filter((f) => TOKEN_FORMATS.some(([kind]) => kind === f.kind))].filter((f) => !inSecretReference(f));
  const slots = structuralFindings(masked).filter((f) => !TOKEN_FORMATS.some(([kind]) => kind === f.kind));
  return dedupe([...direct, ...slots]);
}

/** A one-line description of findings for a message: kinds only, never values (`github-token, url-password`). */
export function describeFindings(findings: readonly SecretFinding[]): string {
  return [...new Set(findings.map((f) => f.kind))].join(", ");
}
