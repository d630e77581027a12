/**
 * TP5: the student's database holds a table of at least five columns (the API's own
 * `predictions` table, which the toolkit creates, does not count), and a dump of it restores:
 * pg_dump -Fc piped into pg_restore in a scratch database on the same server, dropped afterwards.
 * Read through a postgresql:// URL (credentials passed in PG* variables, never in an argv), or
 * with `docker exec` in the local database container (its own POSTGRES_USER and POSTGRES_DB).
 */
import { randomBytes } from "crypto";
import { maskUrl } from "../../../config/names";
import { run, type Ran } from "./exec";
import { oneLine, resultsOf, type CheckOptions, type CheckTarget, type TpCheck } from "./types";

/** Columns the course asks of the TP5 table. */
export const MIN_COLUMNS = 5;
/** Tables the toolkit itself creates, not the student's work. */
export const TOOLKIT_TABLES = ["predictions"];

const TABLES_SQL = `SELECT format('%I.%I', c.table_schema, c.table_name), count(*)
  FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
  WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
    AND c.table_name NOT IN (${TOOLKIT_TABLES.map((t) => `'${t}'`).join(", ")})
  GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`;

interface Db {
  /** psql with these arguments against the student's database (or `database` on the same server). */
  psql(args: string[], database?: string): Promise<Ran>;
  /** A shell pipeline with PG* set for the student's database; `"$DB"` is its name. */
  sh(script: string, args: string[]): Promise<Ran>;
}

function pgEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") throw new Error(`database URL must be postgresql://, got ${maskUrl(url)}`);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PGCONNECT_TIMEOUT: "10" };
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname.replace(/^\[|\]$/g, ""));
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  else if (process.env.PGPASSWORD) env.PGPASSWORD = process.env.PGPASSWORD;
  env.PGDATABASE = decodeURIComponent(u.pathname.replace(/^\//, "")) || env.PGUSER || "postgres";
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

function database(target: CheckTarget, options: CheckOptions): Db {
  const psqlFlags = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"];
  if (target.databaseUrl !== undefined) {
    const env = pgEnv(target.databaseUrl);
    return {
      psql: (args, db) => run(["psql", ...psqlFlags, ...(db ? ["-d", db] : []), ...args], options, { env }),
      sh: (script, args) => run(["bash", "-c", `DB="$PGDATABASE"; ${script}`, "bash", ...args], options, { env, timeoutS: options.requestTimeoutS * 4 }),
    };
  }
  const container = target.databaseContainer as string;
  const inContainer = 'export PGUSER="$POSTGRES_USER" PGDATABASE="${POSTGRES_DB:-$POSTGRES_USER}"; DB="$PGDATABASE";';
  return {
    psql: (args, db) => run(["sh", "-c", `${inContainer} exec psql "$@"`, "sh", ...psqlFlags, ...(db ? ["-d", db] : []), ...args], options, { container }),
    sh: (script, args) => run(["bash", "-c", `${inContainer} ${script}`, "bash", ...args], options, { container, timeoutS: options.requestTimeoutS * 4 }),
  };
}

function firstError(ran: Ran): string {
  return (ran.stderr.split("\n").find((l) => /ERROR|FATAL|error|fatal/.test(l)) ?? ran.stderr.split("\n")[0] ?? "").trim().slice(0, 300);
}

export const tp5: TpCheck = async (target, options) => {
  const { out, add } = resultsOf(target.student);
  if (target.databaseUrl === undefined && target.databaseContainer === undefined) {
    add("table", "error", "no database for this student (--database-url, or the classroom's database container)");
    return out;
  }
  let db: Db;
  let table: string;
  try {
    db = database(target, options);
    const ran = await db.psql(["-c", TABLES_SQL]);
    if (ran.code !== 0) {
      add("table", "error", `cannot query the database: ${firstError(ran)}`);
      return out;
    }
    const [name, columns] = ran.stdout.trim().split("|");
    if (!name) {
      add("table", "fail", "no table of the student's in the database (the API's predictions table does not count)");
      return out;
    }
    table = name;
    if (Number(columns) < MIN_COLUMNS) {
      add("table", "fail", `the widest table, ${name}, has ${columns} columns (at least ${MIN_COLUMNS} asked)`);
      return out;
    }
    add("table", "pass", `${name}: ${columns} columns`);
  } catch (error) {
    add("table", "error", oneLine(error));
    return out;
  }
  const scratch = `tp5_restore_check_${randomBytes(4).toString("hex")}`;
  try {
    const created = await db.psql(["-c", `CREATE DATABASE ${scratch}`]);
    if (created.code !== 0) {
      add("dump and restore", "error", `cannot create a scratch database to restore into: ${firstError(created)}`);
      return out;
    }
    const restored = await db.sh('set -o pipefail; pg_dump -Fc "$DB" | pg_restore --no-owner --no-privileges --exit-on-error -d "$1"', [scratch]);
    if (restored.code !== 0) {
      add("dump and restore", "fail", `pg_dump | pg_restore failed: ${firstError(restored)}`);
      return out;
    }
    const [before, after] = await Promise.all([db.psql(["-c", `SELECT count(*) FROM ${table}`]), db.psql(["-c", `SELECT count(*) FROM ${table}`], scratch)]);
    if (after.code !== 0) add("dump and restore", "fail", `${table} is not in the restored copy: ${firstError(after)}`);
    else if (before.stdout.trim() !== after.stdout.trim()) add("dump and restore", "fail", `${table}: ${before.stdout.trim()} rows, ${after.stdout.trim()} after the restore`);
    else add("dump and restore", "pass", `pg_dump -Fc | pg_restore into a scratch database: ${table} restored with ${after.stdout.trim()} rows`);
  } catch (error) {
    add("dump and restore", "error", oneLine(error));
  } finally {
    await db.psql(["-c", `DROP DATABASE IF EXISTS ${scratch}`]).catch(() => undefined);
  }
  return out;
};
