/**
 * `database.env`, read by Terraform at plan time the way Docker Compose reads an env file, or
 * refused with a message: never a value silently dropped and replaced by a generated password.
 *
 * What is read as Compose reads it: comments and blank lines, CRLF line ends, `export ` before
 * a name, spaces around `=` and around an unquoted value, `=` inside a value, a value in single
 * quotes (literal) or in double quotes without `\`, `$` or an inner quote (the same in both).
 * What is refused, naming the line (never the value): a name set twice, a name without `=`, an
 * empty value, a double-quoted value with escapes or `$`, an unclosed quote, an unquoted value
 * with `$` (Compose interpolates it) or ` #` (Compose strips it as a comment), a UTF-8 byte order
 * mark (Compose would read it as part of the first name), `POSTGRES_*_FILE` (this stack
 * mounts no secret file), and, by allow-list, any other name: one in another case
 * (`postgres_password`, another variable the image never reads), one the image ignores beside
 * those it reads (`PGPASSWORD`, `POSTGRES_PASS`), and a line that is not `NAME=value`. The file's content, and the password, are sensitive locals.
 */
import { TerraformLocal } from "cdktf";
import type { Construct } from "constructs";

export interface DatabaseEnvProps {
  /** The env file's path, a Terraform expression or a literal (`${path.module}/../../../database.env`). */
  readonly path: string;
  /** POSTGRES_USER when the file does not set it. */
  readonly user: string;
  /** POSTGRES_DB when the file does not set it. */
  readonly database: string;
  /** POSTGRES_PASSWORD when the file does not set it: a reference without `${}`, such as `random_password.x.result`. */
  readonly generatedPassword: string;
}

export interface DatabaseEnv {
  /** The path, as a Terraform expression. */
  readonly path: string;
  /** Whether the file exists, as a Terraform expression. */
  readonly exists: unknown;
  readonly user: string;
  readonly database: string;
  /** Sensitive. */
  readonly password: string;
  /** What is wrong with the file, one sentence per problem (never a value), as a Terraform list expression. */
  readonly problems: string;
  /** A precondition that stops `terraform plan` with the problems, for a resource's lifecycle. */
  readonly precondition: { condition: string; errorMessage: string };
}

const KEYS = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"] as const;
const FILE_KEYS = ["POSTGRES_USER_FILE", "POSTGRES_PASSWORD_FILE", "POSTGRES_DB_FILE"];

/** A Terraform string literal (for expressions written by hand below). */
const lit = (text: string) => JSON.stringify(text);
const wrap = (expression: string) => "${" + expression + "}";

/**
 * Adds the locals that read `database.env` to `scope`, with the ids PostgresService has always
 * used (env_file_path, env_file_exists, env_file, user, database, password_value) and
 * env_file_entries and env_file_problems, and returns them.
 */
export function readDatabaseEnv(scope: Construct, props: DatabaseEnvProps): DatabaseEnv {
  // A local holds the path: a plain attribute keeps ${path.module} an expression.
  const pathLocal = new TerraformLocal(scope, "env_file_path", props.path);
  const ref = (local: TerraformLocal) => `local.${local.friendlyUniqueId}`;
  const exists = new TerraformLocal(scope, "env_file_exists", wrap(`fileexists(${ref(pathLocal)})`));
  const content = new TerraformLocal(scope, "env_file", wrap(`sensitive(${ref(exists)} ? file(${ref(pathLocal)}) : "")`));
  const line = String.raw`"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(?P<raw>.*?)[ \t]*$"`;
  const bare = String.raw`"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*$"`;
  // A blank line or a comment: nothing to read.
  const SKIP = String.raw`"^[ \t]*(#.*)?$"`;
  const entries = new TerraformLocal(
    scope,
    "env_file_entries",
    wrap(
      `[for i, l in split("\\n", replace(${ref(content)}, "\\r", "")) : merge({ n = i + 1, skip = length(regexall(${SKIP}, l)) > 0, bare = try(regex(${bare}, l).key, "") }, try(regex(${line}, l), { key = "", raw = "" }))]`,
    ),
  );
  const E = ref(entries);
  const names = `[${KEYS.map(lit).join(", ")}]`;
  const ALL = `[${[...KEYS, ...FILE_KEYS].map(lit).join(", ")}]`;
  // The lines of each name: { POSTGRES_USER = [{ n, key, raw, bare }], ... }
  const byKey = new TerraformLocal(scope, "env_file_keys", wrap(`{ for k in ${names} : k => [for e in ${E} : e if e.key == k] }`));
  const K = ref(byKey);
  const DOUBLE = String.raw`"^\"[^\"\\\\$]*\"$"`;
  const SINGLE = String.raw`"^'[^']*'$"`;
  const quoted = `contains(["\\"", "'"], substr(e.raw, 0, 1))`;
  const problems = new TerraformLocal(
    scope,
    "env_file_problems",
    wrap(
      // jsonencode/nonsensitive/jsondecode unmarks every element (nonsensitive alone unmarks the list only):
      // the messages name lines and names, never a value.
      `jsondecode(nonsensitive(jsonencode(concat(${[
        `substr(${ref(content)}, 0, 1) == "\\ufeff" ? ["database.env starts with a UTF-8 byte order mark, which Compose reads as part of the first name; save it without one"] : []`,
        `[for e in ${E} : "database.env line \${e.n}: \${e.key}\${e.bare} is not supported (this stack mounts no secret file); write \${trimsuffix(e.key, "_FILE")}\${trimsuffix(e.bare, "_FILE")}=value instead" if contains(${JSON.stringify(FILE_KEYS).replace(/,/g, ", ")}, e.key) || contains(${JSON.stringify(FILE_KEYS).replace(/,/g, ", ")}, e.bare)]`,
        `[for e in ${E} : "database.env line \${e.n}: \${e.bare} has no value; write \${e.bare}=value" if contains(${names}, e.bare)]`,
        // By allow-list: a name in another case is another variable the image never reads; any other
        // name is ignored by the image (or, through Compose's env_file, changes the server: POSTGRES_HOST_AUTH_METHOD).
        // Unknown names are not shown: a line without = may be a password on its own.
        `[for e in ${E} : "database.env line \${e.n}: \${e.key}\${e.bare} is not read (names are case-sensitive); write \${upper(e.key)}\${upper(e.bare)}" if !contains(${ALL}, e.key) && !contains(${ALL}, e.bare) && contains(${ALL}, upper("\${e.key}\${e.bare}"))]`,
        `[for e in ${E} : "database.env line \${e.n}: sets a name this stack does not read (it reads POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB only); remove the line or correct the name" if (e.key != "" || e.bare != "") && !contains(${ALL}, upper("\${e.key}\${e.bare}"))]`,
        `[for e in ${E} : "database.env line \${e.n} is not NAME=value (nor a comment); correct or remove it" if !e.skip && e.key == "" && e.bare == ""]`,
        `flatten([for k, es in ${K} : concat(
          length(es) > 1 ? ["database.env sets \${k} on lines \${join(", ", [for e in es : e.n])}: keep one line (Docker and Compose keep the last)"] : [],
          [for e in es : "database.env line \${e.n}: \${k} is empty" if contains(["", "\\"\\"", "''"], e.raw)],
          [for e in es : "database.env line \${e.n}: the double-quoted value of \${k} holds a backslash, a $ or an inner quote, which Docker and Compose read differently; use single quotes" if substr(e.raw, 0, 1) == "\\"" && length(regexall(${DOUBLE}, e.raw)) == 0],
          [for e in es : "database.env line \${e.n}: the single-quoted value of \${k} is not closed on its line" if substr(e.raw, 0, 1) == "'" && length(regexall(${SINGLE}, e.raw)) == 0],
          [for e in es : "database.env line \${e.n}: the value of \${k} holds $, which Compose reads as a variable; put the value in single quotes" if !${quoted} && length(regexall("[$]", e.raw)) > 0],
          [for e in es : "database.env line \${e.n}: the value of \${k} holds a space then #, which Compose reads as the start of a comment; put the value in single quotes" if !${quoted} && length(regexall("[ \\t]#", e.raw)) > 0]
        )])`.replace(/\n\s*/g, " "),
      ].join(", ")}))))`,
    ),
  );
  /** The value of one name as Compose reads it (quotes removed), or the fallback when the file does not set it. */
  const valueOf = (key: string, fallback: string) => {
    const raw = `try(${K}[${lit(key)}][0].raw, "")`;
    return `length(${K}[${lit(key)}]) == 0 ? ${fallback} : length(regexall(${DOUBLE}, ${raw})) + length(regexall(${SINGLE}, ${raw})) > 0 ? substr(${raw}, 1, length(${raw}) - 2) : ${raw}`;
  };
  const user = new TerraformLocal(scope, "user", wrap(`nonsensitive(${valueOf("POSTGRES_USER", lit(props.user))})`));
  const database = new TerraformLocal(scope, "database", wrap(`nonsensitive(${valueOf("POSTGRES_DB", lit(props.database))})`));
  const password = new TerraformLocal(scope, "password_value", wrap(`sensitive(${valueOf("POSTGRES_PASSWORD", props.generatedPassword)})`));
  return {
    path: pathLocal.asString,
    exists: exists.expression,
    user: user.asString,
    database: database.asString,
    password: password.asString,
    problems: problems.expression as string,
    precondition: { condition: wrap(`length(${ref(problems)}) == 0`), errorMessage: wrap(`join("; ", ${ref(problems)})`) },
  };
}
