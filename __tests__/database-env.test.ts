/**
 * The database.env expressions evaluated by real Terraform: `terraform init` with no provider
 * needs no network, so the locals PostgresService writes are applied for real here.
 */
import * as fs from "fs";
import * as path from "path";
import { Testing, TerraformStack } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { testApp } from "./helpers";
import { applyWithTerraform, describeWithTerraform } from "./terraform";

type Values = { user: string; password: string; database: string; exists: boolean };

/**
 * Applies the construct's locals, and the precondition it puts on the env file, in
 * `cdktf.out/stacks/local` under a fresh project root (real Terraform, no provider).
 */
function run(envFile: string | Buffer | undefined): { values?: Values; error?: string } {
  const stack = new TerraformStack(testApp(), "local");
  new DockerProvider(stack, "docker", {});
  new RandomProvider(stack, "random", {});
  new PostgresService(stack, "database", { network: new PrivateNetwork(stack, "net") });
  const out = JSON.parse(Testing.synth(stack)) as { locals: Record<string, string>; resource: Record<string, Record<string, { lifecycle?: unknown }>> };
  const generated = `random_password.${Object.keys(out.resource.random_password)[0]}.result`;
  const locals = Object.fromEntries(Object.entries(out.locals).map(([k, v]) => [k, v.split(generated).join('"generated-password"')]));
  const local = (pattern: RegExp) => `local.${Object.keys(locals).find((k) => pattern.test(k))}`;
  const check = Object.values(out.resource.terraform_data)[0].lifecycle;
  const result = applyWithTerraform(
    {
      locals,
      resource: { terraform_data: { env_file_check: { lifecycle: check } } },
      output: {
        user: { value: `\${${local(/^database_user_/)}}` },
        password: { value: `\${nonsensitive(${local(/^database_password_value_/)})}` },
        database: { value: `\${${local(/^database_[0-9A-F]{8}$/)}}` },
        exists: { value: `\${${local(/^database_env_file_exists_/)}}` },
      },
    },
    { files: envFile === undefined ? {} : { "database.env": envFile } },
  );
  if (result.status !== 0) {
    // Terraform wraps the message at 78 columns: read it as one line.
    const error = /Error: Resource precondition failed.*?(database\.env .*?)(?: There are some problems|$)/.exec(result.stderr.replace(/[│╷╵]/g, " ").replace(/\s+/g, " "))?.[1]?.trim();
    if (error === undefined) throw new Error(result.stderr);
    return { error };
  }
  return { values: result.outputs as Values };
}

function evaluate(envFile: string | undefined): Values {
  const { values, error } = run(envFile);
  if (values === undefined) throw new Error(`database.env refused: ${error}`);
  return values;
}

describeWithTerraform("database.env read by Terraform at plan time", () => {
  jest.setTimeout(60000);

  it("falls back to the configured names and a generated password when the file is absent", () => {
    expect(evaluate(undefined)).toEqual({ user: "week", password: "generated-password", database: "week", exists: false });
  });

  it("takes every value from the file when it has them", () => {
    expect(evaluate("POSTGRES_USER=ada\nPOSTGRES_PASSWORD=s3cr3t-from-file\nPOSTGRES_DB=course\n")).toEqual({
      user: "ada",
      password: "s3cr3t-from-file",
      database: "course",
      exists: true,
    });
  });

  it("reads Windows line ends, comments, spaces around = and keeps = inside a password", () => {
    expect(evaluate("# settings\r\nPOSTGRES_USER = ada\r\nPOSTGRES_PASSWORD=a=b=c\r\n")).toEqual({
      user: "ada",
      password: "a=b=c",
      database: "week",
      exists: true,
    });
  });

  const SECRET = "Pa55-w0rd-from-file";
  // [what, database.env, the values read] — forms Docker Compose reads, read the same way.
  const read: Array<[string, string | Buffer, Partial<Values>]> = [
    ["export before a name", `export POSTGRES_PASSWORD=${SECRET}\n`, { password: SECRET }],
    ["export with a tab and spaces around =", `export\tPOSTGRES_USER  =  ada  \n`, { user: "ada" }],
    ["a double-quoted value", `POSTGRES_PASSWORD="${SECRET}"\n`, { password: SECRET }],
    ["a single-quoted value with $ and #", `POSTGRES_PASSWORD='a$b #c'\n`, { password: "a$b #c" }],
    ["a single-quoted value with spaces kept", `POSTGRES_DB=' course '\n`, { database: " course " }],
    ["CRLF line ends and an indented comment", `  # db\r\nPOSTGRES_DB=course\r\n`, { database: "course" }],
    ["a # inside an unquoted value", `POSTGRES_PASSWORD=a#b\n`, { password: "a#b" }],
    ["no final line break", `POSTGRES_USER=ada`, { user: "ada" }],
    ["database.env.example as shipped", fs.readFileSync(path.join(__dirname, "..", "database.env.example"), "utf8"), { user: "week", password: "change-me-to-a-long-random-value", database: "week" }],
  ];
  it.each(read)("reads %s as Compose does", (_what, file, expected) => {
    expect(evaluate(file as string)).toMatchObject({ exists: true, ...expected });
  });

  // [what, database.env, what the plan-time message says] — forms refused, never replaced by a generated password.
  const refused: Array<[string, string | Buffer, string]> = [
    ["a byte order mark", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`POSTGRES_PASSWORD=${SECRET}\n`)]), "database.env starts with a UTF-8 byte order mark"],
    ["a name set twice", `POSTGRES_PASSWORD=${SECRET}\nPOSTGRES_USER=ada\nPOSTGRES_PASSWORD=other\n`, "database.env sets POSTGRES_PASSWORD on lines 1, 3: keep one line"],
    ["POSTGRES_PASSWORD_FILE", `POSTGRES_PASSWORD_FILE=/run/secrets/pw\n`, "database.env line 1: POSTGRES_PASSWORD_FILE is not supported (this stack mounts no secret file); write POSTGRES_PASSWORD=value instead"],
    ["POSTGRES_USER_FILE", `POSTGRES_USER_FILE=/run/secrets/user\n`, "database.env line 1: POSTGRES_USER_FILE is not supported"],
    ["a name without a value", `POSTGRES_PASSWORD\n`, "database.env line 1: POSTGRES_PASSWORD has no value; write POSTGRES_PASSWORD=value"],
    ["an empty password", `POSTGRES_PASSWORD=\n`, "database.env line 1: POSTGRES_PASSWORD is empty"],
    ["an empty quoted password", `POSTGRES_PASSWORD=""\n`, "database.env line 1: POSTGRES_PASSWORD is empty"],
    ["a double-quoted value with an escape", `POSTGRES_PASSWORD="a\\nb"\n`, "database.env line 1: the double-quoted value of POSTGRES_PASSWORD holds a backslash, a $ or an inner quote"],
    ["a double-quoted value with $", `POSTGRES_PASSWORD="a$HOME"\n`, "the double-quoted value of POSTGRES_PASSWORD holds a backslash, a $ or an inner quote"],
    ["an unclosed double quote", `POSTGRES_PASSWORD="abc\n`, "the double-quoted value of POSTGRES_PASSWORD"],
    ["an unclosed single quote", `POSTGRES_USER='ada\n`, "database.env line 1: the single-quoted value of POSTGRES_USER is not closed on its line"],
    ["an unquoted $", `POSTGRES_PASSWORD=pa$$word\n`, "database.env line 1: the value of POSTGRES_PASSWORD holds $, which Compose reads as a variable; put the value in single quotes"],
    ["a name in lower case alone", `postgres_password=${SECRET}\n`, "database.env line 1: postgres_password is not read (names are case-sensitive); write POSTGRES_PASSWORD"],
    ["a name in mixed case beside the right one", `POSTGRES_PASSWORD=${SECRET}\nPostgres_User=ada\n`, "database.env line 2: Postgres_User is not read (names are case-sensitive); write POSTGRES_USER"],
    ["a name in lower case after export", `export postgres_db=course\n`, "database.env line 1: postgres_db is not read (names are case-sensitive); write POSTGRES_DB"],
    ["a name in lower case without a value", `POSTGRES_USER=ada\npostgres_password\n`, "database.env line 2: postgres_password is not read (names are case-sensitive)"],
    ["a name the image ignores beside one it reads", `POSTGRES_USER=ada\nPGPASSWORD=${SECRET}\n`, "database.env line 2: sets a name this stack does not read (it reads POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB only); remove the line or correct the name"],
    ["a misspelt name", `POSTGRES_PASS=${SECRET}\n`, "database.env line 1: sets a name this stack does not read"],
    ["a server setting through Compose's env_file", `POSTGRES_PASSWORD=${SECRET}\nPOSTGRES_HOST_AUTH_METHOD=trust\n`, "database.env line 2: sets a name this stack does not read"],
    ["a password alone on a line", `POSTGRES_USER=ada\n${SECRET}\n`, "database.env line 2 is not NAME=value (nor a comment); correct or remove it"],
    ["a name with a space in it", `POSTGRES PASSWORD=${SECRET}\n`, "database.env line 1 is not NAME=value (nor a comment)"],
    ["an inline comment", `POSTGRES_DB=course # the course\n`, 'database.env line 1: the value of POSTGRES_DB holds a space then #, which Compose reads as the start of a comment'],
  ];
  it.each(refused)("refuses %s at plan time with a message that names the line and not the value", (_what, file, expected) => {
    const { values, error } = run(file);
    expect(values).toBeUndefined();
    expect(error).toContain(expected);
    expect(error).not.toContain(SECRET);
  });
});
