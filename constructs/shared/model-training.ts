import { WeekConfigError } from "../../config/load";
import type { WeekConfig } from "../../config/schema";
import { readModelData } from "./model-data";

export type ModelConfig = WeekConfig["model"];

/** The API's build reads its training options from this file of its context (one per line). */
export const TRAIN_ARGS_FILE = "ml/train.args";
/** Where a configured data file is staged in the API's build context (never in the sources). */
export const STAGED_DATA_FILE = "ml/data/week-training.csv";
/**
 * Rows above which the course pipeline is refused in an image build: it took 643 s on the
 * course's 24,783 tweets (O(n^2) Platt scaling); the fast pipeline takes seconds.
 */
export const COURSE_PIPELINE_MAX_ROWS = 5000;

/** The algorithm the image trains with: as configured, else course on the sample, fast on a file. */
export function trainingAlgorithm(model: ModelConfig): "course" | "fast" {
  return model.algorithm ?? (model.data === undefined ? "course" : "fast");
}

function lines(bytes: Buffer): number {
  let count = 0;
  for (const byte of bytes) if (byte === 0x0a) count += 1;
  return count;
}

/**
 * Files to write into the API's build context so that its build trains on the configured data:
 * `ml/train.args` (python -m ml.algo @ml/train.args) and the data file, copied (never committed).
 * The default configuration writes nothing: the sources' own ml/train.args trains on the sample.
 * Each option is one line `--option=value`, so that no value (a column named `@FILE` or
 * `-x`) is read by argparse as an option or as a file of arguments.
 *
 * @param cwd what a relative `model.data` is resolved against (the project folder). @default process.cwd()
 */
export function modelTrainingFiles(model: ModelConfig, cwd: string = process.cwd()): Record<string, string> {
  const algorithm = trainingAlgorithm(model);
  if (model.data === undefined && model.algorithm === undefined && model.classWeight === "none") return {};
  const args: Array<[string, string]> = [];
  const data = model.data === undefined ? undefined : readModelData(model, cwd);
  if (data === undefined) {
    args.push(["data", "ml/data/sample.csv"]);
  } else {
    const rows = lines(data.bytes);
    if (algorithm === "course" && rows > COURSE_PIPELINE_MAX_ROWS) {
      throw new WeekConfigError("configuration", [
        `model.algorithm course would train for over ten minutes in the API image build on ${JSON.stringify(model.data)} (${rows} lines, at most ${COURSE_PIPELINE_MAX_ROWS}); use fast`,
      ]);
    }
    args.push(["data", STAGED_DATA_FILE], ["text-column", model.textColumn], ["label-column", model.labelColumn]);
    if (model.labelNames !== undefined) {
      args.push(["label-names", Object.entries(model.labelNames).map(([value, name]) => `${value}=${name}`).join(",")]);
    }
  }
  args.push(["algorithm", algorithm], ["class-weight", model.classWeight]);
  const files: Record<string, string> = { [TRAIN_ARGS_FILE]: args.map(([option, value]) => `--${option}=${value}\n`).join("") };
  if (data !== undefined) files[STAGED_DATA_FILE] = data.text;
  return files;
}
