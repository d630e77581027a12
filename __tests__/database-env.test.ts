/**
 * The database.env expressions evaluated by real Terraform: `terraform init` with no provider
 * needs no network, so the locals PostgresService writes are applied for real here.
 */
import { Testing, TerraformStack } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { testApp } from "./helpers";
import { applyWithTerraform, describeWithTerraform } from "./terraform";

type Values = { user: string; password: string; database: string; exists: boolean };

/** Applies the construct's locals in `cdktf.out/stacks/local` under a fresh project root. */
function evaluate(envFile: string | undefined): Values {
  const stack = new TerraformStack(testApp(), "local");
  new DockerProvider(stack, "docker", {});
  new RandomProvider(stack, "random", {});
  new PostgresService(stack, "database", { network: new PrivateNetwork(stack, "net") });
  const out = JSON.parse(Testing.synth(stack)) as { locals: Record<string, string>; resource: Record<string, object> };
  const generated = `random_password.${Object.keys(out.resource.random_password)[0]}.result`;
  const locals = Object.fromEntries(Object.entries(out.locals).map(([k, v]) => [k, v.split(generated).join('"generated-password"')]));
  const local = (pattern: RegExp) => `local.${Object.keys(locals).find((k) => pattern.test(k))}`;
  const run = applyWithTerraform(
    {
      locals,
      output: {
        user: { value: `\${${local(/^database_user_/)}}` },
        password: { value: `\${nonsensitive(${local(/^database_password_value_/)})}` },
        database: { value: `\${${local(/^database_[0-9A-F]{8}$/)}}` },
        exists: { value: `\${${local(/^database_env_file_exists_/)}}` },
      },
    },
    { files: envFile === undefined ? {} : { "database.env": envFile } },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return run.outputs as Values;
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
});
