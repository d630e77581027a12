/**
 * Real Terraform for the parts of a stack that need no provider: locals, variables and their
 * validations, outputs. `terraform init` with no provider needs no network.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const haveTerraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

/** `describe`, or `describe.skip` with one line saying why when Terraform is not installed. */
export function describeWithTerraform(name: string, body: () => void): void {
  if (!haveTerraform) console.warn(`${name}: skipped, no terraform on the PATH`);
  (haveTerraform ? describe : describe.skip)(name, body);
}

export interface TerraformRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `terraform output -json`, flattened to values, after a successful apply. */
  readonly outputs: Record<string, unknown>;
}

/**
 * Writes `config` as `cdktf.out/stacks/<stack>/main.tf.json` under a fresh project root (with
 * `files` at that root), then runs `terraform init` and `terraform apply` with `vars`.
 */
export function applyWithTerraform(
  config: object,
  options: { files?: Record<string, string | Buffer>; vars?: Record<string, string> } = {},
): TerraformRun {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "week-tf-"));
  const dir = path.join(root, "cdktf.out", "stacks", "stack");
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(options.files ?? {})) fs.writeFileSync(path.join(root, name), content);
  fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(config));
  const env = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
  const run = (...args: string[]) => spawnSync("terraform", args, { cwd: dir, encoding: "utf8", env });
  try {
    const init = run("init", "-input=false", "-no-color");
    if (init.status !== 0) throw new Error(`terraform init failed:\n${init.stderr}`);
    const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
    const apply = run("apply", "-auto-approve", "-input=false", "-no-color", ...vars);
    let outputs: Record<string, unknown> = {};
    if (apply.status === 0) {
      const raw = JSON.parse(run("output", "-json").stdout) as Record<string, { value: unknown }>;
      outputs = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.value]));
    }
    return { status: apply.status ?? 1, stdout: apply.stdout, stderr: apply.stderr, outputs };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
