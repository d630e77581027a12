/**
 * `npm run database-env`: writes database.env (mode 0600) for Compose and for the local stack,
 * with database.user / database.database from the configuration (WEEK_CONFIG honoured) and a
 * generated password (hex: safe inside DATABASE_URL without encoding). Never overwrites: an
 * existing file is left as it is (exit 0, says so). The password is never printed.
 *
 *   npm run database-env [-- PATH]        # default: database.env at the project root
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { loadWeekConfigOrExit } from "../config/load";
import { PROJECT_ROOT } from "../constructs/paths";

/** Writes the file unless it exists; returns whether it wrote it. */
export function writeDatabaseEnv(target: string, user: string, database: string, password = randomBytes(24).toString("hex")): boolean {
  const content = `POSTGRES_USER=${user}\nPOSTGRES_PASSWORD=${password}\nPOSTGRES_DB=${database}\n`;
  let fd: number;
  try {
    fd = fs.openSync(target, "wx", 0o600); // fails if the file exists, even as a dangling link
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.fchmodSync(fd, 0o600); // whatever the umask
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function main(): void {
  const config = loadWeekConfigOrExit();
  const target = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, "database.env"));
  const rel = path.relative(process.cwd(), target);
  if (writeDatabaseEnv(target, config.database.user, config.database.database)) {
    console.log(`wrote ${rel} (mode 0600, generated password)`);
  } else {
    console.log(`${rel} exists: left as it is`);
  }
}

if (require.main === module) main();
