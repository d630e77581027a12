/**
 * `npm run checkov`: an outside opinion beside the policy pack. Synthesises every stack (as
 * `npm run synth` does, into a folder of its own), runs checkov (pinned in
 * tools/checkov/requirements.lock, venv made by scripts/setup/checkov-env.sh) over each stack's
 * cdk.tf.json (framework terraform_json) and over every Dockerfile of lambdas-src/ (framework
 * dockerfile), and compares its failures with the README's table: each one is fixed, matched by a
 * WEEK rule, or listed with the reason it does not apply. A failure the table does not list exits 1.
 * Runs offline (--skip-download; checkov's guideline download is switched off).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { failuresOf, readTable, stale, unlisted, type CheckovFailure } from "../tools/checkov/compare";
import { synthCheckout } from "../tools/review/synth-output";

const ROOT = path.resolve(__dirname, "..");
const CHECKOV = path.join(ROOT, ".venv-checkov", "bin", "checkov");

/** A copy checkov 3.3.30's terraform_json parser reads: it fails on scalars in the `terraform` block (required_version), which no check reads. */
function forCheckov(doc: Record<string, unknown>): Record<string, unknown> {
  const terraform = Object.fromEntries(Object.entries((doc.terraform ?? {}) as Record<string, unknown>).filter(([, v]) => v !== null && typeof v === "object"));
  return { ...doc, terraform };
}

function checkov(framework: string, files: string[]): unknown {
  const args = [...files.flatMap((f) => ["-f", f]), "--framework", framework, "--skip-download", "--quiet", "--compact", "-o", "json"];
  const run = spawnSync(CHECKOV, args, { encoding: "utf8", env: { ...process.env, BC_SKIP_MAPPING: "TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: "false" }, maxBuffer: 64 * 1024 * 1024 });
  if (run.error !== undefined) throw run.error;
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`checkov ${framework} printed no JSON report (exit ${run.status}): ${run.stderr.split("\n").filter(Boolean).slice(-3).join(" / ")}`);
  }
}

function main(): void {
  if (!fs.existsSync(CHECKOV)) {
    console.error("checkov: .venv-checkov is missing; run bash scripts/setup/checkov-env.sh");
    process.exit(1);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "week-checkov-"));
  try {
    const stacks = synthCheckout({ cwd: ROOT, outdir: path.join(work, "cdktf.out") });
    const stackFiles = new Map<string, string>();
    for (const stack of stacks) {
      const dir = path.join(work, "checkov", stack.name);
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, "cdk.tf.json");
      fs.writeFileSync(file, JSON.stringify(forCheckov(stack.doc), null, 2));
      stackFiles.set(path.resolve(file), stack.name);
    }
    const dockerfiles = fs
      .readdirSync(path.join(ROOT, "lambdas-src"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => fs.readdirSync(path.join(ROOT, "lambdas-src", d.name)).filter((f) => /^Dockerfile(\..+)?$/.test(f)).map((f) => path.join(ROOT, "lambdas-src", d.name, f)));
    const targetOf = (file: string) => stackFiles.get(path.resolve(file)) ?? path.relative(ROOT, path.resolve(ROOT, file));
    const failures: CheckovFailure[] = [
      ...failuresOf(checkov("terraform_json", [...stackFiles.keys()]), targetOf),
      ...failuresOf(checkov("dockerfile", dockerfiles), targetOf),
    ];
    const table = readTable(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
    const missing = unlisted(failures, table);
    for (const row of stale(failures, table)) console.log(`checkov: table row ${row.checkId} ${row.target} matches no failure any more: remove it`);
    console.log(`checkov: ${stackFiles.size} stacks and ${dockerfiles.length} Dockerfiles, ${failures.length} failures, ${failures.length - missing.length} in the README's table, ${missing.length} not`);
    for (const f of missing) console.error(`checkov: ${f.checkId} on ${f.target} (${f.resource}): ${f.name}: not in the README's table; fix it, match it to a WEEK rule, or say why it does not apply`);
    if (missing.length > 0) process.exitCode = 1;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
