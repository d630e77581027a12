/**
 * The class's secrets, kept outside the repository under `state/classroom/<course>/` (git-ignored,
 * folders 0700, files 0600): per student `<id>/database.env` (POSTGRES_USER, POSTGRES_PASSWORD,
 * POSTGRES_DB, as Compose reads it) and `<id>/jupyter_token`; the proxy's self-signed
 * certificate under `tls/` when the configuration gives none.
 *
 * Written before synth (main.ts) for students who have none yet; never rewritten, so a student
 * keeps their secrets across runs and a new student gets new ones. The stack reads them at plan
 * time with Terraform's file(): the synthesised JSON holds their paths, never their values.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { generate } from "selfsigned";
import type { Roster } from "../../config/roster";

/** Where a course's secrets live, relative to the project root. */
export function classStateDir(course: string): string {
  return path.posix.join("state", "classroom", course);
}

/** The files of one student's secrets, relative to the project root. */
export function studentSecretFiles(course: string, id: string): { readonly databaseEnv: string; readonly jupyterToken: string } {
  const dir = path.posix.join(classStateDir(course), id);
  return { databaseEnv: path.posix.join(dir, "database.env"), jupyterToken: path.posix.join(dir, "jupyter_token") };
}

/** The generated certificate and key, relative to the project root. */
export function selfSignedFiles(course: string): { readonly certificate: string; readonly key: string } {
  const dir = path.posix.join(classStateDir(course), "tls");
  return { certificate: path.posix.join(dir, "cert.pem"), key: path.posix.join(dir, "key.pem") };
}

export interface StudentSecrets {
  readonly jupyterToken: string;
  readonly databaseUser: string;
  readonly databasePassword: string;
  readonly databaseName: string;
}

/** Letters and digits, as random_password with special = false gives: safe in URLs, env files and shells. */
function randomText(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out.push(alphabet[byte % 62]); // 248 = 4 * 62: no bias
    }
  }
  return out.join("");
}

function writeNew(file: string, text: string): void {
  // wx: never overwrite (two runs at once keep the first); 0600 from the start.
  fs.writeFileSync(file, text, { mode: 0o600, flag: "wx" });
}

/**
 * Writes the secrets of every student of the roster who has none yet; returns the ids that got new ones.
 * @param root the project root
 */
export function ensureStudentSecrets(root: string, course: string, roster: Roster, database: { user: string; database: string }): string[] {
  const created: string[] = [];
  fs.mkdirSync(path.join(root, classStateDir(course)), { recursive: true, mode: 0o700 });
  for (const student of roster.students) {
    const files = studentSecretFiles(course, student.id);
    fs.mkdirSync(path.join(root, path.dirname(files.databaseEnv)), { recursive: true, mode: 0o700 });
    let made = false;
    if (!fs.existsSync(path.join(root, files.databaseEnv))) {
      writeNew(path.join(root, files.databaseEnv), `POSTGRES_USER=${database.user}\nPOSTGRES_PASSWORD=${randomText(32)}\nPOSTGRES_DB=${database.database}\n`);
      made = true;
    }
    if (!fs.existsSync(path.join(root, files.jupyterToken))) {
      writeNew(path.join(root, files.jupyterToken), `${randomText(48)}\n`);
      made = true;
    }
    if (made) created.push(student.id);
  }
  return created;
}

/** Reads one student's secrets (as the stack does): undefined when they have none yet. */
export function readStudentSecrets(root: string, course: string, id: string): StudentSecrets | undefined {
  const files = studentSecretFiles(course, id);
  const envPath = path.join(root, files.databaseEnv);
  const tokenPath = path.join(root, files.jupyterToken);
  if (!fs.existsSync(envPath) || !fs.existsSync(tokenPath)) return undefined;
  const env = Object.fromEntries(
    fs
      .readFileSync(envPath, "utf8")
      .split(/\r?\n/)
      .map((line) => /^\s*(?:export\s+)?([A-Z_]+)\s*=\s*'?([^']*?)'?\s*$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  return {
    jupyterToken: fs.readFileSync(tokenPath, "utf8").trim(),
    databaseUser: env.POSTGRES_USER ?? "",
    databasePassword: env.POSTGRES_PASSWORD ?? "",
    databaseName: env.POSTGRES_DB ?? "",
  };
}

/** Ids that have a secrets folder but are no longer in the roster (their volumes are kept while protected). */
export function departedStudents(root: string, course: string, roster: Roster): string[] {
  const dir = path.join(root, classStateDir(course));
  if (!fs.existsSync(dir)) return [];
  const current = new Set(roster.students.map((s) => s.id));
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "tls" && /^[a-z](?:[a-z0-9-]{0,28}[a-z0-9])?$/.test(d.name) && !current.has(d.name))
    .map((d) => d.name)
    .sort();
}

/**
 * Generates the proxy's self-signed certificate (RSA 2048, one year, for `serverName`, localhost
 * and 127.0.0.1) when it does not exist; returns true when it wrote one.
 */
export async function ensureSelfSignedCertificate(root: string, course: string, serverName: string): Promise<boolean> {
  const files = selfSignedFiles(course);
  if (fs.existsSync(path.join(root, files.certificate)) && fs.existsSync(path.join(root, files.key))) return false;
  fs.mkdirSync(path.join(root, path.dirname(files.certificate)), { recursive: true, mode: 0o700 });
  const altNames = [
    { type: 2 as const, value: serverName },
    ...(serverName === "localhost" ? [] : [{ type: 2 as const, value: "localhost" }]),
    { type: 7 as const, ip: "127.0.0.1" },
  ];
  const notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: "commonName", value: serverName }], {
    keySize: 2048,
    notAfterDate: notAfter,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  fs.rmSync(path.join(root, files.key), { force: true });
  fs.rmSync(path.join(root, files.certificate), { force: true });
  writeNew(path.join(root, files.key), pems.private);
  writeNew(path.join(root, files.certificate), pems.cert);
  return true;
}
