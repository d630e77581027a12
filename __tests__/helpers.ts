import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing, TerraformStack } from "cdktf";
import { parseWeekConfig, WeekConfigError } from "../config/load";
import type { WeekConfig, WeekConfigInput } from "../config/schema";

/** The configuration with every default, plus `overrides`. */
export function weekConfig(overrides: WeekConfigInput = {}): WeekConfig {
  return parseWeekConfig(overrides, "test configuration");
}

/** The problems the configuration loader reports for `raw`, one line per bad field; fails if `raw` is accepted. */
export function problemsOf(raw: unknown): string[] {
  try {
    parseWeekConfig(raw, "week.config.json");
  } catch (error) {
    if (error instanceof WeekConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

/** A fresh app the way tests want it (no crash reports, stable ids). */
export function testApp(): App {
  return Testing.app();
}

/** Synthesises a stack to its Terraform JSON, parsed. */
export function synthJson(stack: TerraformStack): SynthOutput {
  return JSON.parse(Testing.synth(stack)) as SynthOutput;
}

/** The synthesised JSON with build-context hashes masked, so that a change in a Python workload does not churn every snapshot. */
export function stableSynth(stack: TerraformStack): string {
  const json = Testing.synth(stack);
  const hashes = new Set<string>();
  for (const match of json.matchAll(/assets\/[^/"]+\/([A-F0-9]{32,})/g)) hashes.add(match[1]);
  let stable = json;
  for (const hash of hashes) {
    stable = stable.split(hash).join("<context-hash>").split(hash.slice(0, 12).toLowerCase()).join("<context-tag>");
  }
  return stable;
}

export type SynthOutput = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
  variable?: Record<string, { sensitive?: boolean; default?: unknown; type?: string }>;
  locals?: Record<string, unknown>;
  provider?: Record<string, unknown>;
  terraform?: Record<string, unknown>;
};

/** Every resource of one type, by name. */
export function resourcesOf(out: SynthOutput, type: string): Record<string, Record<string, unknown>> {
  return out.resource?.[type] ?? {};
}

/** The single resource of a type; fails when there are none or several. */
export function onlyResource(out: SynthOutput, type: string): Record<string, unknown> {
  const all = Object.values(resourcesOf(out, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** Runs `fn` with `vars` set in process.env, then puts the environment back as it was. */
export function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Every file under `root`, folders named in `skip` left out. */
export function filesUnder(root: string, skip: readonly string[] = []): string[] {
  return fs.readdirSync(root, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(root, entry.name);
    if (entry.isDirectory()) return skip.includes(entry.name) ? [] : filesUnder(file, skip);
    return [file];
  });
}

/** Runs `fn` with `dir` as the working directory (where a relative model.data is found), then goes back. */
export function inDirectory<T>(dir: string, fn: () => T): T {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(cwd);
  }
}

/**
 * Synthesises the stacks `build` adds to a fresh app into a temporary folder, as `cdktf synth`
 * writes them (configuration, manifests and assets), and returns the text of every file.
 */
export function synthesiseToFiles(build: (app: App) => void): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "week-synth-"));
  try {
    const app = new App({ outdir });
    build(app);
    app.synth();
    return filesUnder(outdir)
      .map((file) => fs.readFileSync(file, "utf8"))
      .join("\n");
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
