/**
 * The database.env expressions evaluated by real Terraform: `terraform init` with no provider
 * needs no network, so the locals PostgresService writes are applied for real here.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing, TerraformStack } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { testApp } from "./helpers";

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
const haveTerraform = terraform.status === 0;
const describeWithTerraform = haveTerraform ? describe : describe.skip;
if (!haveTerraform) console.warn("database-env: skipped, no terraform on the PATH");

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
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "week-tf-"));
  const dir = path.join(root, "cdktf.out", "stacks", "local");
  fs.mkdirSync(dir, { recursive: true });
  if (envFile !== undefined) fs.writeFileSync(path.join(root, "database.env"), envFile);
  fs.writeFileSync(
    path.join(dir, "main.tf.json"),
    JSON.stringify({
      locals,
      output: {
        user: { value: `\${${local(/^database_user_/)}}` },
        password: { value: `\${nonsensitive(${local(/^database_password_value_/)})}` },
        database: { value: `\${${local(/^database_[0-9A-F]{8}$/)}}` },
        exists: { value: `\${${local(/^database_env_file_exists_/)}}` },
      },
    }),
  );
  try {
    const run = (...args: string[]) => execFileSync("terraform", args, { cwd: dir, encoding: "utf8", env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" } });
    run("init", "-input=false", "-no-color");
    run("apply", "-auto-approve", "-input=false", "-no-color");
    const values = JSON.parse(run("output", "-json")) as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.value])) as Values;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
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
