/**
 * Build contexts take what `.dockerignore` admits and never a secret file, whatever
 * `.dockerignore` says; the Heroku build tars the same filtered copy. Images built from these
 * contexts are checked by the image tests (scripts/test/image-test.sh), which build from the same
 * staged folders on a real engine.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { BuildContext } from "../constructs/shared/build-context";
import { buildWorkloadImage } from "../constructs/shared/workload-image";
import { HerokuContainerApp } from "../constructs/heroku/container-app";
import { HerokuProvider } from "../imports/providers/heroku/provider";
import { WORKLOADS } from "../constructs/paths";
import { testApp } from "./helpers";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "week-context-"));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(dir: string, files: Record<string, string>) {
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, relative), content);
  }
}

/** The files a context staged from `files` holds, relative and sorted. */
function staged(files: Record<string, string>, include?: string[]): string[] {
  const source = path.join(root, "src");
  write(source, files);
  const ctx = new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source, include });
  const list = (dir: string, prefix = ""): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? list(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
  return list(ctx.stagedAt).sort();
}

const MARK = "PLANTED-SECRET-7f3a";
const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${MARK}\n-----END OPENSSH PRIVATE KEY-----\n`;

// Secret files: each is left out even with no .dockerignore at all.
const secrets: Array<[string, string]> = [
  [".env", `POSTGRES_PASSWORD=${MARK}`],
  [".env.local", `TOKEN=${MARK}`],
  [".env.production", MARK],
  ["database.env", `POSTGRES_PASSWORD=${MARK}`],
  ["app/settings.env.local", MARK],
  ["secrets.toml", MARK],
  ["secrets.json", MARK],
  [".streamlit/secrets.toml", `password = "${MARK}"`],
  ["id_rsa", KEY],
  ["keys/id_ed25519", KEY],
  ["id_ecdsa.pub", MARK],
  ["server.pem", MARK],
  ["tls/server.key", MARK],
  ["cert.p12", MARK],
  [".netrc", `machine github.com password ${MARK}`],
  [".pgpass", `db:5432:week:week:${MARK}`],
  [".git-credentials", `https://ada:${MARK}@github.com`],
  ["credentials.json", MARK],
  ["client_secret_123.json", MARK],
  ["week-project-3f2a1b.json", `{"type": "service_account", "private_key": "${MARK}"}`],
  ["notes.txt", KEY],
  [".aws/credentials", MARK],
  [".ssh/config", MARK],
  [".git/config", `url = https://${MARK}@github.com/x`],
  ["terraform.tfstate", MARK],
  ["prod.tfvars", MARK],
  [".npmrc", `//registry.npmjs.org/:_authToken=${MARK}`],
  [".pypirc", MARK],
  [".envrc", `export TOKEN=${MARK}`],
  ["config/credentials.yml", MARK],
  [".s3cfg", MARK],
  ["client.ovpn", MARK],
  ["secrets/db.txt", MARK],
];

// Files that look close but hold no secret: kept.
const kept: Array<[string, string]> = [
  [".env.example", "POSTGRES_PASSWORD=change-me"],
  ["database.env.example", "POSTGRES_PASSWORD=change-me"],
  ["app/keys.py", "KEYS = []"],
  ["app/secret_santa.py", "pass"],
  ["environment.yml", "name: week"],
  ["settings.toml", "debug = false"],
  ["id_card.py", "pass"],
  ["README.md", "read me"],
];

describe("a build context", () => {
  it.each(secrets)("leaves out %s whatever .dockerignore admits", (file, content) => {
    const files = staged({ Dockerfile: "FROM x", ".dockerignore": `!${file}\n`, [file]: content });
    expect(files).not.toContain(file);
    expect(files).toContain("Dockerfile");
  });

  it.each(kept)("keeps %s", (file, content) => {
    expect(staged({ Dockerfile: "FROM x", [file]: content })).toContain(file);
  });

  it("takes only what .dockerignore admits, with Docker's exceptions and ** patterns", () => {
    const files = staged({
      Dockerfile: "FROM x",
      "heroku.yml": "build: {}",
      ".dockerignore": "*\n!requirements.txt\n!app/\napp/**/*.log\n!app/keep.log\ndocs\n",
      "requirements.txt": "fastapi",
      "app/main.py": "",
      "app/sub/x.log": "",
      "app/keep.log": "",
      "tests/test_x.py": "",
      "README.md": "",
    });
    expect(files).toEqual([".dockerignore", "Dockerfile", "app/keep.log", "app/main.py", "heroku.yml", "requirements.txt"]);
  });

  it("leaves symbolic links out (a link may point anywhere on the machine)", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "app.py": "" });
    fs.symlinkSync(path.join(os.homedir(), ".ssh", "id_rsa"), path.join(source, "innocent.txt"));
    const ctx = new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source });
    expect(fs.readdirSync(ctx.stagedAt).sort()).toEqual(["Dockerfile", "app.py"]);
  });

  it("refuses a secret file among the files written into it", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x" });
    expect(() => new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source, files: { ".env": "X=1" } })).toThrow(
      's/ctx: files must not add a secret file to a build context, got ".env"',
    );
  });
});

describe("secrets planted in the workload folders", () => {
  jest.setTimeout(60000);

  it("reach no output: cdktf.out (configuration, manifests, assets) and the folder the Heroku build tars", () => {
    const planted = Object.fromEntries(secrets.map(([file, content]) => [file, content]));
    const copies: Record<string, string> = {};
    for (const workload of ["api", "streamlit"]) {
      copies[workload] = path.join(root, workload);
      fs.cpSync(path.join(WORKLOADS, workload), copies[workload], { recursive: true });
      write(copies[workload], planted);
      write(copies[workload], { "app/.env": `X=${MARK}`, ".dockerignore": `${fs.readFileSync(path.join(WORKLOADS, workload, ".dockerignore"), "utf8")}\n!.env\n!*.pem\n!.streamlit/\n` });
    }
    const outdir = path.join(root, "out");
    const app = new App({ outdir });
    const local = new TerraformStack(app, "local");
    new DockerProvider(local, "docker", {});
    for (const workload of ["api", "streamlit"]) buildWorkloadImage(new Construct(local, workload), { source: copies[workload], repository: `week-${workload}` });
    const heroku = new TerraformStack(app, "heroku");
    new HerokuProvider(heroku, "heroku", {});
    const api = new HerokuContainerApp(heroku, "api", { name: "week-api", source: copies.api });
    app.synth();

    const everything = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everything(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const files = everything(outdir);
    expect(files.some((f) => f.endsWith("app/main.py"))).toBe(true);
    for (const file of files) expect(fs.readFileSync(file, "latin1")).not.toContain(MARK);
    const names = files.map((f) => path.relative(outdir, f));
    for (const [secret] of secrets) expect(names.filter((n) => n.endsWith(`/${secret}`))).toEqual([]);

    // heroku_build tars source.path: the staged, filtered copy.
    const build = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "heroku", "cdk.tf.json"), "utf8")).resource.heroku_build;
    const sourcePath = (Object.values(build)[0] as { source: { path: string } }).source.path;
    expect(sourcePath).toBe(api.context.path);
    const archived = everything(path.join(outdir, "stacks", "heroku", sourcePath)).map((f) => path.basename(f));
    expect(archived).toEqual(expect.arrayContaining(["Dockerfile", "heroku.yml", "requirements.txt", "main.py"]));
    expect(api.context.secretsLeftOut).toEqual(expect.arrayContaining([".env", "id_rsa", ".streamlit/secrets.toml", ".netrc", "app/.env"]));
  });
});
