/**
 * The class roster: a CSV file (path in `classroom.roster`), one student per line.
 *
 *   id,name,email[,git_user_name,git_user_email,repository_url,api_url]
 *
 * The id names the student's containers, volumes, URL path (`/<id>/`) and, on Kubernetes, their
 * namespace: 1-30 of a-z, 0-9 and `-`, starting with a letter and not ending with a dash (an
 * RFC 1123 label). Every problem is reported at once, one line each, naming the file, the line
 * and the id, as the configuration's errors do.
 */
import * as path from "path";
import { CsvError, parse } from "csv-parse/sync";
import { z } from "zod";
import { decode, readBounded, WeekConfigError } from "./load";
import { gitRepositoryUrlProblem, maskUrl, unsafeNameProblem } from "./names";

export interface Student {
  /** The student's id: names, labels, URL path. */
  readonly id: string;
  readonly name: string;
  readonly email: string;
  /** git user.name in the student's sandbox. @default - the student's name */
  readonly gitUserName?: string;
  /** git user.email in the student's sandbox. @default - the student's email */
  readonly gitUserEmail?: string;
  /** Repository cloned into the student's workspace. @default - classroom-wide sandbox.gitRepositoryUrl */
  readonly repositoryUrl?: string;
  /** Where the student deployed their API (Heroku, Cloud Run), for the teacher's checks. @default - none */
  readonly apiUrl?: string;
  /** Line of the CSV file the student is on (1 is the header). */
  readonly line: number;
}

export interface Roster {
  /** The file read, as given. */
  readonly file: string;
  readonly students: Student[];
}

/** Thrown for an unreadable or invalid roster; `problems` holds one line per problem. */
export class RosterError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.length === 1 ? problems[0] : `${file} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RosterError";
  }
}

export const REQUIRED_COLUMNS = ["id", "name", "email"] as const;
export const OPTIONAL_COLUMNS = ["git_user_name", "git_user_email", "repository_url", "api_url"] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];
const KNOWN: readonly string[] = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS];

export const STUDENT_ID_PATTERN = /^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$/;
const ID_RULE = "must be 1-30 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash";

/** The most students a roster may hold: far above a class, and a bound on what one host is asked to run. */
export const MAX_STUDENTS = 200;

const emailSchema = z.email();

function show(value: string): string {
  const text = JSON.stringify(maskUrl(value));
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

/** Why a free-text cell (a name, a git identity) is refused, or undefined. */
function textProblem(value: string, column: string): string | undefined {
  if (value === "") return `${column} must not be empty`;
  const unsafe = unsafeNameProblem(value);
  if (unsafe !== undefined) return `${column} ${unsafe}, got ${show(value)}`;
  if (/[<>]/.test(value)) return `${column} must not contain angle brackets, got ${show(value)}`;
  if (value.length > 200) return `${column} must be at most 200 characters`;
  return undefined;
}

function emailProblem(value: string, column: string): string | undefined {
  const unsafe = unsafeNameProblem(value);
  if (unsafe !== undefined) return `${column} ${unsafe}, got ${show(value)}`;
  if (!emailSchema.safeParse(value).success) return `${column} must be an e-mail address such as student@example.com, got ${show(value)}`;
  return undefined;
}

/** An API the student deployed: http(s), no credentials in it (the same checks as a git URL). */
function apiUrlProblem(value: string): string | undefined {
  if (!/^https?:\/\/[^/?#\s]+/.test(value)) return `api_url must be an http:// or https:// URL, got ${show(value)}`;
  const problem = gitRepositoryUrlProblem(value.replace(/^http:/, "https:"));
  return problem === undefined ? undefined : `api_url ${problem}, got ${show(value)}`;
}

function repositoryUrlProblem(value: string): string | undefined {
  const problem = gitRepositoryUrlProblem(value);
  return problem === undefined ? undefined : `repository_url ${problem}, got ${show(value)}`;
}

/** Parses roster text; `file` names it in messages. */
export function parseRoster(text: string, file: string): Roster {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) throw new RosterError(file, [`${file} is not valid CSV: ${error.message.replace(/^Invalid [^:]*: /, "").replace(/\.$/, "")}`]);
    throw error;
  }
  if (records.length === 0) throw new RosterError(file, [`${file} is empty; it needs the header ${REQUIRED_COLUMNS.join(",")} and one line per student`]);
  const [{ record: header, info: headerInfo }, ...rows] = records;
  const at = (line: number, id?: string) => `${file} line ${line}${id === undefined || id === "" ? "" : ` (id ${show(id)})`}`;
  const problems: string[] = [];
  const names = header.map((h) => h.toLowerCase());
  if (names.length === 1 && names[0].includes(";")) {
    throw new RosterError(file, [`${at(headerInfo.lines)}: the header is separated by semicolons; save the file as comma-separated CSV (id,name,email)`]);
  }
  names.forEach((name, i) => {
    const unsafe = unsafeNameProblem(header[i]);
    if (unsafe !== undefined) problems.push(`${at(headerInfo.lines)}: column ${i + 1} of the header ${unsafe}`);
    else if (!KNOWN.includes(name)) problems.push(`${at(headerInfo.lines)}: ${show(header[i])} is not a known column (known: ${KNOWN.join(", ")})`);
    else if (names.indexOf(name) !== i) problems.push(`${at(headerInfo.lines)}: the column ${name} appears twice`);
  });
  for (const required of REQUIRED_COLUMNS) {
    if (!names.includes(required)) problems.push(`${at(headerInfo.lines)}: the header misses the column ${required} (it needs ${REQUIRED_COLUMNS.join(",")})`);
  }
  if (problems.length > 0) throw new RosterError(file, problems);
  if (rows.length === 0) throw new RosterError(file, [`${file} holds no student: add one line per student under the header`]);
  if (rows.length > MAX_STUDENTS) throw new RosterError(file, [`${file} holds ${rows.length} students, more than the ${MAX_STUDENTS} a roster may have`]);

  const students: Student[] = [];
  const seenIds = new Map<string, number>();
  const seenEmails = new Map<string, string>();
  for (const { record, info } of rows) {
    const line = info.lines;
    const cell = (column: Column): string | undefined => {
      const i = names.indexOf(column);
      return i < 0 ? undefined : record[i];
    };
    const id = cell("id") ?? "";
    const where = at(line, id);
    if (record.length !== names.length) {
      problems.push(`${where}: has ${record.length} field${record.length === 1 ? "" : "s"}, the header has ${names.length}`);
      continue;
    }
    const before = problems.length;
    const idUnsafe = unsafeNameProblem(id);
    if (id === "") problems.push(`${where}: id must not be empty`);
    else if (idUnsafe !== undefined) problems.push(`${at(line)}: id ${idUnsafe}`);
    else if (!STUDENT_ID_PATTERN.test(id)) {
      const hint = STUDENT_ID_PATTERN.test(id.toLowerCase()) ? ` (try ${show(id.toLowerCase())})` : "";
      problems.push(`${where}: id ${ID_RULE}, got ${show(id)}${hint}`);
    } else if (seenIds.has(id)) problems.push(`${where}: id is already used on line ${seenIds.get(id)}`);
    else seenIds.set(id, line);
    const checks: Array<string | undefined> = [
      textProblem(cell("name") ?? "", "name"),
      emailProblem(cell("email") ?? "", "email"),
      cell("git_user_name") ? textProblem(cell("git_user_name") as string, "git_user_name") : undefined,
      cell("git_user_email") ? emailProblem(cell("git_user_email") as string, "git_user_email") : undefined,
      cell("repository_url") ? repositoryUrlProblem(cell("repository_url") as string) : undefined,
      cell("api_url") ? apiUrlProblem(cell("api_url") as string) : undefined,
    ];
    for (const problem of checks) if (problem !== undefined) problems.push(`${where}: ${problem}`);
    const email = (cell("email") ?? "").toLowerCase();
    const other = seenEmails.get(email);
    if (email !== "" && other !== undefined) problems.push(`${where}: email is already ${other}'s`);
    else seenEmails.set(email, id || `line ${line}`);
    if (problems.length > before) continue;
    const optional = (column: Column) => (cell(column) ? (cell(column) as string) : undefined);
    students.push({
      id,
      name: cell("name") as string,
      email: cell("email") as string,
      ...(optional("git_user_name") === undefined ? {} : { gitUserName: optional("git_user_name") }),
      ...(optional("git_user_email") === undefined ? {} : { gitUserEmail: optional("git_user_email") }),
      ...(optional("repository_url") === undefined ? {} : { repositoryUrl: optional("repository_url") }),
      ...(optional("api_url") === undefined ? {} : { apiUrl: optional("api_url") }),
      line,
    });
  }
  if (problems.length > 0) throw new RosterError(file, problems);
  return { file, students };
}

/**
 * Reads and validates the roster at `file` (relative paths from `cwd`).
 * Throws a RosterError with one line per problem: an unreadable file, a bad header, a bad line.
 */
export function readRoster(file: string, cwd: string = process.cwd()): Roster {
  const resolved = path.resolve(cwd, file);
  let text: string;
  try {
    const bytes = readBounded(resolved, file, undefined);
    if (bytes === undefined) throw new RosterError(file, [`${file} does not exist (classroom.roster)`]);
    text = decode(bytes, file);
  } catch (error) {
    if (error instanceof WeekConfigError) throw new RosterError(file, error.problems.map((p) => `${file} ${p}`));
    throw error;
  }
  return parseRoster(text, file);
}
