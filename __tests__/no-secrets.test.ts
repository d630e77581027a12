/**
 * Canaries: every secret input gets a recognisable value, the whole app is synthesised as
 * `npm run synth` does (every stack, assets included), and no canary may appear anywhere in
 * the output.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { PROJECT_ROOT } from "../constructs/paths";
import { addWeekStacks } from "../stacks";
import { weekConfig } from "./helpers";

const CANARY = "canary-7f3e9a";
const SECRET_ENV = [
  "TF_VAR_jupyter_token",
  "TF_VAR_git_token",
  "TF_VAR_database_password",
  "HEROKU_API_KEY",
  "GOOGLE_OAUTH_ACCESS_TOKEN",
  "GOOGLE_CREDENTIALS",
  "DATABASE_URL",
  "JUPYTER_TOKEN",
  "GIT_TOKEN",
];

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

describe("synth output", () => {
  const envFile = path.join(PROJECT_ROOT, "database.env");
  const saved: Record<string, string | undefined> = {};
  let wroteEnvFile = false;
  const canaries: string[] = [];

  beforeAll(() => {
    for (const name of SECRET_ENV) {
      saved[name] = process.env[name];
      process.env[name] = `${CANARY}-${name}`;
      canaries.push(`${CANARY}-${name}`);
    }
    if (fs.existsSync(envFile)) {
      // A real database.env: its own password is the canary.
      const password = /^POSTGRES_PASSWORD=(.+)$/m.exec(fs.readFileSync(envFile, "utf8"))?.[1]?.trim();
      if (password !== undefined && password.length >= 8) canaries.push(password);
    } else {
      fs.writeFileSync(envFile, `POSTGRES_USER=week\nPOSTGRES_PASSWORD=${CANARY}-db-password\nPOSTGRES_DB=week\n`, { mode: 0o600 });
      wroteEnvFile = true;
      canaries.push(`${CANARY}-db-password`);
    }
  });

  afterAll(() => {
    for (const name of SECRET_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    if (wroteEnvFile) fs.rmSync(envFile);
  });

  it("holds no secret value in any file of any stack", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "week-cdktf-out-"));
    try {
      const app = new App({ outdir });
      const config = weekConfig({ sandbox: { gitRepositoryUrl: "https://github.com/ada/week.git" }, heroku: { appName: "ada-week-api", streamlit: true }, gcp: { project: "ada-week-2026", streamlit: true } });
      const stacks = addWeekStacks(app, config);
      app.synth();
      const files = filesUnder(outdir);
      expect(files.filter((f) => f.endsWith("cdk.tf.json")).length).toBe(stacks.length);
      for (const file of files) {
        const text = fs.readFileSync(file, "latin1");
        for (const canary of canaries) {
          if (text.includes(canary)) throw new Error(`${path.relative(outdir, file)} contains the secret ${canary}`);
        }
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
