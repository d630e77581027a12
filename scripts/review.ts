/**
 * `npm run review`: one Markdown page per stack for a reviewer, from the synthesised JSON.
 *
 *   npm run review                                   what each stack is (the user's WEEK_CONFIG)
 *   npm run review -- --base main                    and what changed since git ref main
 *   npm run review -- --base-config old.json         and what changed since that configuration
 *   npm run review -- --stack local --out review     write review/local.md instead of stdout
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command, Option } from "commander";
import { weekConfigPath } from "../config/load";
import { describeStack } from "../tools/review/describe";
import { diffStacks } from "../tools/review/diff";
import { renderPage } from "../tools/review/markdown";
import { resolveCommit, synthCheckout, synthGitRef, type SynthStack } from "../tools/review/synth-output";
import { STACK_TYPES } from "../policies/allow-list";

const ROOT = path.resolve(__dirname, "..");

interface Options {
  base?: string;
  baseConfig?: string;
  stack?: string[];
  out?: string;
  failOnAlarm?: boolean;
}

/** The configuration file in force (synth's: WEEK_CONFIG, else week.config.json), or undefined for the defaults. */
function currentConfig(): string | undefined {
  const file = weekConfigPath(process.env, ROOT);
  return process.env.WEEK_CONFIG !== undefined || fs.existsSync(file) ? file : undefined;
}

function main(argv: string[]): number {
  const program = new Command()
    .name("npm run review --")
    .description("A Markdown page per stack: what it is and, given a base, what changed and what a deploy destroys")
    .option("--base <ref>", "git ref to compare with (synthesised in a temporary git worktree)")
    .option("--base-config <file>", "configuration file to compare with (the base's code is this checkout, or --base)")
    .addOption(new Option("--stack <name...>", "stacks to review").choices(Object.keys(STACK_TYPES)))
    .option("--out <dir>", "write <dir>/<stack>.md for each stack instead of printing the pages")
    .option("--fail-on-alarm", "exit 2 when a change destroys or exposes something")
    .showHelpAfterError()
    .exitOverride();
  program.parse(argv, { from: "user" });
  const options = program.opts<Options>();

  const config = currentConfig();
  const configLabel = config === undefined ? "the defaults (no week.config.json)" : `\`${config.startsWith(`${ROOT}${path.sep}`) ? path.relative(ROOT, config) : config}\``;
  let baseConfig = config;
  if (options.baseConfig !== undefined) {
    baseConfig = path.resolve(process.cwd(), options.baseConfig);
    if (!fs.existsSync(baseConfig)) throw new Error(`--base-config must name an existing file, got ${JSON.stringify(options.baseConfig)}`);
  }

  if (options.base !== undefined) resolveCommit(ROOT, options.base);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "week-review-"));
  try {
    const now = synthCheckout({ cwd: ROOT, configFile: config, outdir: path.join(work, "now") });
    let base: SynthStack[] | undefined;
    const baseLabel: string[] = [];
    if (options.base !== undefined) {
      base = synthGitRef(ROOT, options.base, baseConfig, path.join(work, "base"));
      baseLabel.push(`git \`${options.base}\``);
    } else if (options.baseConfig !== undefined) {
      base = synthCheckout({ cwd: ROOT, configFile: baseConfig, outdir: path.join(work, "base") });
    }
    if (options.baseConfig !== undefined) baseLabel.push(`configuration \`${options.baseConfig}\``);

    let alarms = 0;
    const wanted = options.stack ?? now.map((s) => s.name);
    if (options.out !== undefined) fs.mkdirSync(options.out, { recursive: true });
    for (const stack of now.filter((s) => wanted.includes(s.name))) {
      const before = base?.find((s) => s.name === stack.name);
      const diff = base === undefined ? undefined : diffStacks(before ?? { name: stack.name, doc: {}, annotations: [] }, stack);
      alarms += diff?.alarms.length ?? 0;
      const page = renderPage(describeStack(stack), { config: configLabel, base: baseLabel.length > 0 ? baseLabel.join(" with ") : undefined }, diff);
      if (options.out !== undefined) {
        const file = path.join(options.out, `${stack.name}.md`);
        fs.writeFileSync(file, page);
        console.error(`wrote ${file}${diff !== undefined ? ` (${diff.alarms.length} destructive or exposing change${diff.alarms.length === 1 ? "" : "s"})` : ""}`);
      } else {
        process.stdout.write(`${page}\n`);
      }
    }
    return options.failOnAlarm === true && alarms > 0 ? 2 : 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  const e = error as { code?: string; exitCode?: number; message?: string };
  if (typeof e.code === "string" && e.code.startsWith("commander.")) {
    process.exitCode = e.exitCode ?? 1;
  } else {
    console.error(`review: ${e.message ?? String(error)}`);
    process.exitCode = 1;
  }
}
