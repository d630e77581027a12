/**
 * The week's `model` setting: what the API image trains on (issue 8 §1). The data file reaches
 * the API's build context as a staged copy with the training options in ml/train.args.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { WORKLOADS } from "../constructs/paths";
import { GcpStack } from "../stacks/gcp-stack";
import { HerokuStack } from "../stacks/heroku-stack";
import { LocalStack } from "../stacks/local-stack";
import { COURSE_PIPELINE_MAX_ROWS, STAGED_DATA_FILE, TRAIN_ARGS_FILE, modelTrainingFiles } from "../constructs/shared/model-training";
import { WeekConfigError } from "../config/load";
import type { WeekConfigInput } from "../config/schema";
import { filesUnder, inDirectory, problemsOf, resourcesOf, synthJson, testApp, weekConfig } from "./helpers";

const COURSE_NAMES = { "0": "hate_speech", "1": "offensive_language", "2": "neither" };
let dir: string;

function writeCsv(name: string, rows: number): string {
  const file = path.join(dir, name);
  const lines = [",count,hate_speech,offensive_language,neither,class,tweet"];
  for (let i = 0; i < rows; i++) lines.push(`${i},3,0,0,3,${i % 3},"tweet ${i} &amp; RT @x: more"`);
  fs.writeFileSync(file, `\ufeff${lines.join("\r\n")}\r\n`);
  return file;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-model-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("model configuration", () => {
  it("defaults to the shipped sample: nothing is written into the API's context", () => {
    const config = weekConfig();
    expect(config.model).toEqual({ dataRoots: [], maxDataMiB: 64, textColumn: "text", labelColumn: "label", classWeight: "none" });
    expect(modelTrainingFiles(config.model)).toEqual({});
  });

  it("the sources' ml/train.args trains the sample with the course pipeline", () => {
    const committed = fs.readFileSync(path.join(__dirname, "..", "lambdas-src", "api", TRAIN_ARGS_FILE), "utf8");
    expect(committed.split("\n")).toEqual(["--data=ml/data/sample.csv", "--algorithm=course", "--class-weight=none", ""]);
    expect(modelTrainingFiles(weekConfig({ model: { algorithm: "course" } }).model)[TRAIN_ARGS_FILE]).toBe(committed);
  });

  it("stages the course's file byte for byte with its options, fast pipeline by default", () => {
    const csv = writeCsv("labeled_data.csv", 30);
    const model = weekConfig({ model: { data: "labeled_data.csv", textColumn: "tweet", labelColumn: "class", labelNames: COURSE_NAMES, classWeight: "balanced" } }).model;
    const files = modelTrainingFiles(model, dir);
    expect(files[TRAIN_ARGS_FILE].trimEnd().split("\n")).toEqual([
      `--data=${STAGED_DATA_FILE}`, "--text-column=tweet", "--label-column=class",
      "--label-names=0=hate_speech,1=offensive_language,2=neither",
      "--algorithm=fast", "--class-weight=balanced",
    ]);
    expect(Buffer.from(files[STAGED_DATA_FILE], "utf8").equals(fs.readFileSync(csv))).toBe(true);
  });

  it("puts the data and the options into the API's staged build context", () => {
    writeCsv("week.csv", 12);
    const stack = inDirectory(dir, () => new LocalStack(testApp(), "local", weekConfig({ model: { data: "week.csv", textColumn: "tweet", labelColumn: "class", labelNames: COURSE_NAMES } })));
    const api = stack.node.findAll().find((c) => c.node.path.endsWith("api/workload/context")) as unknown as { stagedAt: string };
    expect(fs.readFileSync(path.join(api.stagedAt, TRAIN_ARGS_FILE), "utf8")).toContain("--label-names=0=hate_speech");
    expect(fs.readFileSync(path.join(api.stagedAt, STAGED_DATA_FILE))).toEqual(fs.readFileSync(path.join(dir, "week.csv")));
    expect(fs.readFileSync(path.join(api.stagedAt, "Dockerfile"), "utf8")).toContain("python -m ml.algo @ml/train.args");
  });

  it("does the same for the API image pushed to Google Cloud", () => {
    writeCsv("week.csv", 12);
    const stack = inDirectory(dir, () => new GcpStack(testApp(), "gcp", weekConfig({ model: { data: "week.csv", textColumn: "tweet", labelColumn: "class" } })));
    const api = stack.node.findAll().find((c) => c.node.path.endsWith("api/image/context")) as unknown as { stagedAt: string };
    expect(fs.readFileSync(path.join(api.stagedAt, TRAIN_ARGS_FILE), "utf8")).toContain("--text-column=tweet");
    expect(fs.existsSync(path.join(api.stagedAt, STAGED_DATA_FILE))).toBe(true);
  });

  /** The Heroku API's build context, and the folder its heroku_build tars. */
  function herokuApiContext(stack: HerokuStack): { stagedAt: string; sourcePath: string } {
    const context = stack.node.findAll().find((c) => c.node.path.endsWith("api/app/context")) as unknown as { stagedAt: string; path: string };
    const builds = Object.values(resourcesOf(synthJson(stack), "heroku_build"));
    expect(builds.map((build) => build.source)).toEqual([{ path: context.path }]);
    return { stagedAt: context.stagedAt, sourcePath: context.path };
  }

  it("does the same for the source the Heroku build tars, so the Heroku app serves the configured model", () => {
    writeCsv("week.csv", 12);
    const model = { data: "week.csv", textColumn: "tweet", labelColumn: "class", labelNames: COURSE_NAMES, classWeight: "balanced" as const };
    const { stagedAt } = herokuApiContext(inDirectory(dir, () => new HerokuStack(testApp(), "heroku", weekConfig({ model }))));
    expect(fs.readFileSync(path.join(stagedAt, TRAIN_ARGS_FILE), "utf8").trimEnd().split("\n")).toEqual([
      `--data=${STAGED_DATA_FILE}`, "--text-column=tweet", "--label-column=class",
      "--label-names=0=hate_speech,1=offensive_language,2=neither",
      "--algorithm=fast", "--class-weight=balanced",
    ]);
    expect(fs.readFileSync(path.join(stagedAt, STAGED_DATA_FILE))).toEqual(fs.readFileSync(path.join(dir, "week.csv")));
    expect(fs.readFileSync(path.join(stagedAt, "heroku.yml"), "utf8")).toContain("web: Dockerfile");
  });

  it("adds nothing to the Heroku build without a model setting: the sources' options train the sample", () => {
    const { stagedAt } = herokuApiContext(new HerokuStack(testApp(), "heroku", weekConfig()));
    expect(fs.existsSync(path.join(stagedAt, STAGED_DATA_FILE))).toBe(false);
    expect(fs.readFileSync(path.join(stagedAt, TRAIN_ARGS_FILE))).toEqual(fs.readFileSync(path.join(WORKLOADS, "api", TRAIN_ARGS_FILE)));
  });

  it("writes the Heroku data only inside the build context asset: never elsewhere in cdktf.out, never in the sources", () => {
    const marker = "h7-marker-9f3a";
    fs.writeFileSync(path.join(dir, "marked.csv"), `tweet,class\n"${marker} one",0\n"${marker} two",1\n`);
    const marked = (root: string, skip: string[] = []) => filesUnder(root, skip).filter((file) => fs.readFileSync(file).includes(marker));
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "week-synth-"));
    try {
      const app = new App({ outdir });
      const stack = inDirectory(dir, () => new HerokuStack(app, "heroku", weekConfig({ model: { data: "marked.csv", textColumn: "tweet", labelColumn: "class" } })));
      const { sourcePath } = herokuApiContext(stack);
      app.synth();
      // The asset folder heroku_build points at, relative to the stack's synthesised folder.
      expect(marked(outdir)).toEqual([path.join(outdir, "stacks", "heroku", sourcePath, STAGED_DATA_FILE)]);
      expect(marked(path.join(WORKLOADS, "api"), [".venv", "__pycache__"])).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  /** The one-line problem modelTrainingFiles reports for `model` from `dir`, or fails. */
  function refusal(model: WeekConfigInput["model"]): string {
    try {
      modelTrainingFiles(weekConfig({ model }).model, dir);
    } catch (error) {
      expect(error).toBeInstanceOf(WeekConfigError);
      const problems = (error as WeekConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).not.toContain("\n");
      return problems[0];
    }
    throw new Error(`expected ${JSON.stringify(model)} to be refused`);
  }

  const HEADER = "text,label\n";
  it.each<[string, () => WeekConfigInput["model"], string]>([
    ["a missing file", () => ({ data: "absent.csv" }), 'model.data names a file that does not exist, got "absent.csv"'],
    ["a file in a missing folder", () => ({ data: "nowhere/absent.csv" }), 'model.data names a file that does not exist, got "nowhere/absent.csv"'],
    ["the course pipeline on a big file", () => (writeCsv("big.csv", COURSE_PIPELINE_MAX_ROWS + 10), { data: "big.csv", algorithm: "course", textColumn: "tweet", labelColumn: "class" }), "model.algorithm course would train for over ten minutes"],
    ["a file that is not UTF-8", () => (fs.writeFileSync(path.join(dir, "latin1.csv"), Buffer.from("text,label\ncaf\xe9,0\n", "latin1")), { data: "latin1.csv" }), 'model.data must be a UTF-8 CSV file, got "latin1.csv"'],
    ["a folder", () => (fs.mkdirSync(path.join(dir, "folder.csv"), { recursive: true }), { data: "folder.csv" }), 'model.data must be a regular CSV file, but it is a folder, got "folder.csv"'],
    ["a named pipe", () => (fs.rmSync(path.join(dir, "fifo.csv"), { force: true }), execFileSync("mkfifo", [path.join(dir, "fifo.csv")]), { data: "fifo.csv" }), 'model.data must be a regular CSV file, but it is a named pipe, got "fifo.csv"'],
    ["a device", () => ({ data: "/dev/zero", dataRoots: ["/dev"] }), 'model.data must be a regular CSV file, but it is a device, got "/dev/zero"'],
    ["a symbolic link to a file outside", () => (fs.rmSync(path.join(dir, "shadow.csv"), { force: true }), fs.symlinkSync("/etc/shadow", path.join(dir, "shadow.csv")), { data: "shadow.csv" }), 'model.data must be a regular CSV file, but it is a symbolic link (it may point anywhere on the machine), got "shadow.csv"'],
    ["a symbolic link to a CSV inside", () => (writeCsv("real.csv", 5), fs.rmSync(path.join(dir, "link.csv"), { force: true }), fs.symlinkSync(path.join(dir, "real.csv"), path.join(dir, "link.csv")), { data: "link.csv", textColumn: "tweet", labelColumn: "class" }), "but it is a symbolic link"],
    ["a hard link", () => (writeCsv("original.csv", 5), fs.rmSync(path.join(dir, "hard.csv"), { force: true }), fs.linkSync(path.join(dir, "original.csv"), path.join(dir, "hard.csv")), { data: "hard.csv", textColumn: "tweet", labelColumn: "class" }), "but it is a hard link"],
    ["the process environment", () => ({ data: "/proc/self/environ" }), 'model.data must be under the project folder or a folder model.dataRoots names (a file from anywhere else would be copied into every API image), got "/proc/self/environ"'],
    ["a file of another user's folder", () => ({ data: "/etc/passwd" }), "model.data must be under the project folder or a folder model.dataRoots names"],
    ["a path that climbs out", () => ({ data: "../../../../../../etc/hostname" }), "model.data must be under the project folder"],
    ["a root that does not exist", () => ({ data: "x.csv", dataRoots: ["missing-folder"] }), 'model.data cannot be checked: model.dataRoots names a folder that does not exist ("missing-folder")'],
    ["a file above the size cap", () => (fs.writeFileSync(path.join(dir, "large.csv"), HEADER + "a,0\n".repeat(400000)), { data: "large.csv", maxDataMiB: 1 }), "model.data must be a regular CSV file, but it is 1600011 bytes, more than model.maxDataMiB (1 MiB)"],
    ["a binary file", () => (fs.writeFileSync(path.join(dir, "model.csv"), Buffer.from([0x80, 0x04, 0x95, 0, 0, 0x7d])), { data: "model.csv" }), "model.data must be a CSV file (text), but it holds NUL bytes"],
    ["UTF-16 text", () => (fs.writeFileSync(path.join(dir, "utf16.csv"), Buffer.from(`\ufeff${HEADER}a,0\n`, "utf16le")), { data: "utf16.csv" }), "model.data must be a CSV file (text), but it holds NUL bytes"],
    ["a header without the text column", () => (fs.writeFileSync(path.join(dir, "nocol.csv"), "tweet,label\na,0\n"), { data: "nocol.csv" }), 'model.data must be a CSV file whose header names model.textColumn "text", but its header is "tweet,label"'],
    ["rows with another number of fields", () => (fs.writeFileSync(path.join(dir, "ragged.csv"), `${HEADER}a,0\nb,1,extra\n`), { data: "ragged.csv" }), "model.data must be a CSV file, but it is not readable as CSV near line 3 (CSV_RECORD_INCONSISTENT_FIELDS_LENGTH)"],
    ["an unclosed quote", () => (fs.writeFileSync(path.join(dir, "quote.csv"), `${HEADER}"a,0\n`), { data: "quote.csv" }), "model.data must be a CSV file, but it is not readable as CSV"],
    ["a header alone", () => (fs.writeFileSync(path.join(dir, "empty.csv"), HEADER), { data: "empty.csv" }), "model.data must be a CSV file with at least one row after its header"],
  ])("refuses %s with one line naming model.data", (_, make, message) => {
    expect(refusal(make())).toContain(message);
  });

  it("takes a file from a folder model.dataRoots names (the course's data set beside the project)", () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "course-data-"));
    try {
      fs.writeFileSync(path.join(shared, "labeled.csv"), `tweet,class\n"a ""quoted"" tweet, with a comma\nand a line",0\nb,1\n`);
      const model = weekConfig({ model: { data: path.join(shared, "labeled.csv"), dataRoots: [shared], textColumn: "tweet", labelColumn: "class" } }).model;
      expect(modelTrainingFiles(model, dir)[STAGED_DATA_FILE]).toContain('""quoted""');
      expect(() => modelTrainingFiles({ ...model, dataRoots: [] }, dir)).toThrow("model.data must be under the project folder");
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it.each(["@FILE", "-x", "--algorithm", "@/etc/passwd"])("writes a column named %s as one --option=value line", (column) => {
    fs.writeFileSync(path.join(dir, "odd.csv"), `"${column}",label\na,0\n`);
    // The schema refuses a leading dash already; the file's form holds even without it.
    const args = modelTrainingFiles({ ...weekConfig({ model: { data: "odd.csv" } }).model, textColumn: column }, dir)[TRAIN_ARGS_FILE];
    expect(args.split("\n")).toContain(`--text-column=${column}`);
    for (const line of args.trimEnd().split("\n")) expect(line).toMatch(/^--[a-z-]+=/);
  });

  it("accepts the course pipeline on a small file", () => {
    writeCsv("small.csv", 50);
    expect(modelTrainingFiles(weekConfig({ model: { data: "small.csv", algorithm: "course", textColumn: "tweet", labelColumn: "class" } }).model, dir)[TRAIN_ARGS_FILE]).toContain("course");
  });

  it.each([
    [{ model: { algorithm: "svm" } }, "model.algorithm must be course or fast"],
    [{ model: { classWeight: "heavy" } }, "model.classWeight must be none or balanced"],
    [{ model: { textColumn: "tweet" } }, "model.data is needed when textColumn, labelColumn or labelNames are set"],
    [{ model: { data: "a.csv", labelNames: { "0": "a", "1": "a" } } }, 'model.labelNames gives the class name "a" to two values'],
    [{ model: { data: "a.csv", labelNames: { "0": "a,b" } } }, "model.labelNames.0 must be 1-100 characters without a comma"],
    [{ model: { data: "a.csv", textColumn: "" } }, "model.textColumn must be a CSV column name"],
    [{ model: { data: "" } }, "model.data must be the path of a CSV file"],
    [{ model: { file: "x" } }, "model.file is not a known setting"],
  ])("refuses %j", (raw, message) => {
    expect(problemsOf(raw).join("\n")).toContain(message);
  });
});
