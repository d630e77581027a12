/**
 * `npm run classroom -- check TPn`: that TP's checks against every student of the roster, or
 * against one target given on the command line (`--url`, no roster needed), into one report.
 *
 *   npm run classroom -- check TP3 --url http://127.0.0.1:8080
 *   npm run classroom -- check TP5 --url postgresql://week@127.0.0.1:5432/week   (password in PGPASSWORD)
 *   npm run classroom -- check TP1 --url http://127.0.0.1:8000 --container week-sandbox   (token in JUPYTER_TOKEN)
 *   npm run classroom -- check TP4 --format html --out tp4.html                  (the roster's api_url)
 */
import { jupyterBaseUrl } from "../../../constructs/classroom/nginx-conf";
import * as fs from "fs";
import * as path from "path";
import { Command, Option } from "commander";
import { studentPrefix } from "../../../constructs/classroom/student-bundle";
import type { Student } from "../../../config/roster";
import type { WeekConfig } from "../../../config/schema";
import { reportCsv, reportHtml, reportMarkdown, reportTable, runChecks, TPS, type CheckTarget } from "../checks";
import { CliError, loadClassroom, PROJECT_ROOT } from "../context";
import { selfSignedFiles, studentSecretFiles } from "../secrets";

interface CheckFlags {
  url?: string;
  container?: string;
  image?: string;
  student: string;
  only?: string;
  format: string;
  out?: string;
  jobs: number;
  timeout: number;
  requestTimeout: number;
}

function whole(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name} must be a whole number between ${min} and ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** The one target given on the command line: the URL is what the TP checks. */
export function targetFromFlags(tp: string, flags: Pick<CheckFlags, "url" | "container" | "image" | "student">, env: NodeJS.ProcessEnv = process.env): CheckTarget {
  const base = { student: flags.student };
  switch (tp) {
    case "TP1":
      return { ...base, sandboxUrl: flags.url, token: env.JUPYTER_TOKEN, sandboxContainer: flags.container };
    case "TP2":
      return { ...base, streamlitUrl: flags.url };
    case "TP3":
      return { ...base, apiUrl: flags.url };
    case "TP4":
      return { ...base, apiUrl: flags.url, image: flags.image };
    default:
      return { ...base, databaseUrl: flags.url, databaseContainer: flags.container };
  }
}

/**
 * A student's target in the class: the classroom stack behind its proxy (Jupyter at its base URL
 * `/<id>/jupyter/`, `/<id>/api/`, `/<id>/app/`) and its containers (`<course>-<id>-<service>`), or the roster's api_url for the
 * deployed API (TP4, and TP3 when the class has no api service).
 */
export function targetOfStudent(tp: string, student: Student, config: WeekConfig, token?: string): CheckTarget {
  const c = config.classroom;
  const origin = `https://${c.proxy.serverName}:${c.proxy.hostPort}`;
  const proxy = `${origin}/${student.id}`;
  const container = (service: string) => `${studentPrefix(c.course, student.id)}-${service}`;
  switch (tp) {
    case "TP1":
      return { student: student.id, sandboxUrl: `${origin}${jupyterBaseUrl(student.id)}`, token, sandboxContainer: container("sandbox") };
    case "TP2":
      return { student: student.id, streamlitUrl: c.services.includes("streamlit") ? `${proxy}/app/` : undefined };
    case "TP3":
      return { student: student.id, apiUrl: c.services.includes("api") ? `${proxy}/api/` : student.apiUrl };
    case "TP4":
      return { student: student.id, apiUrl: student.apiUrl };
    default:
      return { student: student.id, databaseContainer: container("database") };
  }
}

/** A student's Jupyter token, from the class's secrets (state/classroom/<course>/<id>/jupyter_token). */
function sandboxToken(root: string, course: string, id: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, studentSecretFiles(course, id).jupyterToken), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The proxy's certificate to trust: the configured one, or the generated self-signed one. */
export function proxyCertificate(root: string, config: WeekConfig): string | undefined {
  const file = config.classroom.proxy.tlsCertificate ?? selfSignedFiles(config.classroom.course).certificate;
  const full = path.resolve(root, file);
  return fs.existsSync(full) ? full : undefined;
}

export function command(): Command {
  return new Command("check")
    .description("run a TP's checks against every student (or one --url) and write the class report")
    .argument("<tp>", `one of ${Object.keys(TPS).join(", ")}`)
    .option("--url <url>", "check this one target instead of the roster (the API, the sandbox, the Streamlit app, or a postgresql:// URL for TP5)")
    .option("--container <name>", "with --url: the local container to look inside (TP1's sandbox, TP5's database)")
    .option("--image <ref>", "TP4: the API's image, whose size is checked against the course's 500 MB")
    .option("--student <id>", "with --url: the name in the report", "local")
    .option("--only <ids>", "only these students of the roster (comma-separated)")
    .addOption(new Option("--format <format>", "report format").choices(["table", "csv", "markdown", "html"]).default("table"))
    .option("--out <file>", "write the report to this file")
    .option("--jobs <n>", "students checked at once", whole("--jobs", 1, 64), 8)
    .option("--timeout <seconds>", "time allowed for one student", whole("--timeout", 1, 3600), 120)
    .option("--request-timeout <seconds>", "time allowed for one request", whole("--request-timeout", 1, 600), 20)
    .action(async (tpArg: string, flags: CheckFlags) => {
      const tp = tpArg.toUpperCase();
      if (TPS[tp] === undefined) throw new CliError(`classroom check: the TP must be one of ${Object.keys(TPS).join(", ")}, got ${JSON.stringify(tpArg)}`);
      let targets: CheckTarget[];
      let caFile: string | undefined;
      if (flags.url !== undefined || flags.container !== undefined) targets = [targetFromFlags(tp, flags)];
      else {
        const { config, roster, root } = loadClassroom();
        caFile = proxyCertificate(root, config);
        const only = flags.only?.split(",").map((s) => s.trim());
        const unknown = only?.filter((id) => !roster.students.some((s) => s.id === id)) ?? [];
        if (unknown.length > 0) throw new CliError(`classroom check: --only names students not in ${roster.file}: ${unknown.join(", ")}`);
        const students = roster.students.filter((s) => only === undefined || only.includes(s.id));
        targets = students.map((s) => targetOfStudent(tp, s, config, tp === "TP1" ? sandboxToken(root, config.classroom.course, s.id) : undefined));
      }
      const results = await runChecks(tp, targets, { jobs: flags.jobs, studentTimeoutS: flags.timeout, requestTimeoutS: flags.requestTimeout, root: PROJECT_ROOT, caFile });
      const text =
        flags.format === "csv" ? reportCsv(results) : flags.format === "markdown" ? reportMarkdown(tp, results) : flags.format === "html" ? reportHtml(tp, results) : reportTable(tp, results);
      if (flags.out === undefined) process.stdout.write(text);
      else {
        fs.mkdirSync(path.dirname(path.resolve(flags.out)), { recursive: true });
        fs.writeFileSync(flags.out, text);
        console.error(`classroom check ${tp}: wrote ${flags.out}`);
      }
      // the report is the result: a failing student is not a failed run (exit 0); exit 2 when nothing could be checked
      if (results.every((r) => r.status === "error")) process.exitCode = 2;
    });
}
