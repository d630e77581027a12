/**
 * `model.data`, read as what it claims to be before it is copied into the API's build contexts:
 * a regular file with one link (no symbolic or hard link, pipe, device or folder), under the
 * project folder (the working directory of synth) or one of `model.dataRoots`, at most
 * `model.maxDataMiB`, and CSV by content: UTF-8 text (a byte order mark is allowed: ml.algo
 * reads utf-8-sig), a header row with the configured text and label columns, and the same
 * number of fields on every record of a sample. Anything else is one WeekConfigError line
 * naming the field and the problem.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "csv-parse/sync";
import { WeekConfigError } from "../../config/load";
import type { WeekConfig } from "../../config/schema";
import { readRegularFile } from "./context-filter";

type ModelConfig = WeekConfig["model"];

/** Records read to judge the CSV's shape (the header and this many rows). */
export const CSV_SAMPLE_RECORDS = 1000;

export interface ModelData {
  /** The file's absolute path. */
  readonly file: string;
  /** Its bytes, as checked (the bytes staged). */
  readonly bytes: Buffer;
  /** Its text (UTF-8). */
  readonly text: string;
}

function isUnder(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/** Why the configured data file is refused (the sentence after `model.data`), or the file read. */
function check(model: ModelConfig, cwd: string): { problem: string } | ModelData {
  const given = model.data ?? "";
  const file = path.resolve(cwd, given);
  const roots: string[] = [];
  for (const root of [".", ...model.dataRoots]) {
    try {
      roots.push(fs.realpathSync(path.resolve(cwd, root)));
    } catch {
      return { problem: `cannot be checked: model.dataRoots names a folder that does not exist (${JSON.stringify(root)})` };
    }
  }
  let real: string;
  try {
    // The folder may be reached through links (a shared data folder); the file itself may not be one.
    real = path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
  } catch {
    return { problem: "names a file that does not exist" };
  }
  if (!roots.some((root) => isUnder(root, real))) {
    return { problem: "must be under the project folder or a folder model.dataRoots names (a file from anywhere else would be copied into every API image)" };
  }
  const maxBytes = model.maxDataMiB * 1024 * 1024;
  const { bytes, problem } = readRegularFile(real, maxBytes);
  if (bytes === undefined) {
    const sized = problem?.replace(/more than the (\d+) allowed/, `more than model.maxDataMiB (${model.maxDataMiB} MiB)`);
    return { problem: sized === "does not exist" ? "names a file that does not exist" : `must be a regular CSV file, but it ${sized}` };
  }
  if (bytes.includes(0)) return { problem: "must be a CSV file (text), but it holds NUL bytes (binary, UTF-16 or UTF-32?)" };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { problem: "must be a UTF-8 CSV file" };
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, to: CSV_SAMPLE_RECORDS + 1, relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    return { problem: `must be a CSV file, but it is not readable as CSV${line === undefined ? "" : ` near line ${line}`} (${(error as { code?: string }).code ?? "parse error"})` };
  }
  const header = (records[0] ?? []).map((c) => c.trim());
  for (const [field, column] of [
    ["textColumn", model.textColumn],
    ["labelColumn", model.labelColumn],
  ] as const) {
    if (!header.includes(column)) return { problem: `must be a CSV file whose header names model.${field} ${JSON.stringify(column)}, but its header is ${JSON.stringify(header.slice(0, 10).join(","))}` };
  }
  if (records.length < 2) return { problem: "must be a CSV file with at least one row after its header" };
  return { file: real, bytes, text };
}

/** The configured data file, read and checked; throws a one-line WeekConfigError naming model.data. */
export function readModelData(model: ModelConfig, cwd: string): ModelData {
  const result = check(model, cwd);
  if ("problem" in result) throw new WeekConfigError("configuration", [`model.data ${result.problem}, got ${JSON.stringify(model.data)}`]);
  return result;
}
