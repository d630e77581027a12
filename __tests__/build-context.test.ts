/**
 * Build contexts admit what the Dockerfile copies (an allow-list per workload, checked against
 * the Dockerfile's COPY/ADD sources), refuse links, special files and unlisted archives, and
 * scan every admitted file by content (whole file, any encoding, notebooks' outputs, base64);
 * a refusal is one line naming the file and the kind of secret, never its value. The Heroku
 * build tars the same staged copy. Images built from these contexts are checked by the image
 * tests (scripts/test/image-test.sh), which build from the same staged folders on a real engine.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import dockerignore from "@balena/dockerignore";
import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { BuildContext } from "../constructs/shared/build-context";
import { BuildContextError, type ContextEntry } from "../constructs/shared/context-filter";
import { buildWorkloadImage } from "../constructs/shared/workload-image";
import { API_CONTEXT, SANDBOX_CONTEXT, STREAMLIT_CONTEXT, contextCopyProblems, copySources, type WorkloadContext } from "../constructs/shared/workload-contexts";
import { HerokuContainerApp } from "../constructs/heroku/container-app";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { HerokuProvider } from "../imports/providers/heroku/provider";
import { renderSandboxDockerfile } from "../constructs/local/sandbox-image";
import { WORKLOADS } from "../constructs/paths";
import { testApp } from "./helpers";

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "week-context-"));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(dir: string, files: Record<string, string | Buffer>) {
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    fs.writeFileSync(path.join(dir, relative), content);
  }
}

const list = (dir: string, prefix = ""): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? list(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));

/** A context of `source` admitting `include`, in a fresh stack. */
function context(source: string, include: readonly ContextEntry[], extra: { files?: Record<string, string>; archives?: string[] } = {}): BuildContext {
  return new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source, include, ...extra });
}

/** The message a context refuses `source` with (one line), or fails. */
function refusal(source: string, include: readonly ContextEntry[], extra: { files?: Record<string, string>; archives?: string[] } = {}): string {
  try {
    context(source, include, extra);
  } catch (error) {
    expect(error).toBeInstanceOf(BuildContextError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    expect(message).not.toContain(MARK);
    return message;
  }
  throw new Error("expected the context to be refused");
}

const MARK = "PLANTED7f3aQz9XkP2wLm";
const PEM = `-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA${MARK}u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLez\n-----END RSA PRIVATE KEY-----\n`;
const ADMIT_APP: ContextEntry[] = ["requirements.txt", { folder: "app", suffixes: [".py", ".ipynb", ".yml", ".cfg", ".txt", ".conf", ".csv"] }];

/** What a Python one-liner writes to stdout (argv follows the code). */
function python(code: string, ...args: string[]): Buffer {
  return execFileSync("python3", ["-c", `import sys; ${code}`, ...args]);
}

/** Python writes these encodings with open(..., encoding=...); Node reads utf16le and latin1. */
const encodings: Array<[string, Buffer]> = [
  ["UTF-8", Buffer.from(PEM)],
  ["UTF-8 after the first MiB", Buffer.concat([Buffer.from(`x = """${"a".repeat(1024 * 1024 + 7)}\n`), Buffer.from(PEM), Buffer.from('"""\n')])],
  ["UTF-8 with a BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(PEM)])],
  ["UTF-16 LE with a BOM", Buffer.from(`\ufeff${PEM}`, "utf16le")],
  ["UTF-16 LE without a BOM", Buffer.from(PEM, "utf16le")],
  ["UTF-16 BE with a BOM", Buffer.from(`\ufeff${PEM}`, "utf16le").swap16()],
  ["UTF-16 BE without a BOM", Buffer.from(PEM, "utf16le").swap16()],
  ["UTF-16 LE after a one-byte prefix", Buffer.concat([Buffer.from("#"), Buffer.from(PEM, "utf16le")])],
  ["UTF-32 LE", python(`sys.stdout.buffer.write(sys.argv[1].encode("utf-32-le"))`, PEM)],
  ["UTF-32 BE", python(`sys.stdout.buffer.write(sys.argv[1].encode("utf-32-be"))`, PEM)],
  ["UTF-32 with a BOM", python(`sys.stdout.buffer.write(sys.argv[1].encode("utf-32"))`, PEM)],
  ["Latin-1 around it", Buffer.concat([Buffer.from("# café\n", "latin1"), Buffer.from(PEM)])],
];

/** Kinds of secret, by content, each in a file the allow-list admits, under an innocent name. */
const contents: Array<[string, string, string | Buffer, RegExp]> = [
  ["a PEM key", "app/settings.py", PEM, /private-key-block/],
  ["a PGP private key block", "app/keys.txt", `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF${MARK}\n-----END PGP PRIVATE KEY BLOCK-----\n`, /private-key/],
  ["PuTTY key text", "app/notes.txt", `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAI${MARK}\n`, /putty/],
  ["a token in a notebook's output, split over lines", "app/explore.ipynb", JSON.stringify({ cells: [{ cell_type: "code", source: ["print(t)"], outputs: [{ output_type: "stream", text: ["ghp_", `aBcDeFgHiJkLmNoPqRs${MARK}\n`] }] }] }), /github/],
  ["a token in JSON escapes", "app/data.ipynb", `{"cells": [{"outputs": [{"text": "\\u0067hp_aBcDeFgHiJkLmNoPqRs${MARK}"}]}]}`, /github/],
  ["a password in a client configuration", "app/client.cfg", `[client]\nuser=root\npassword=${MARK}\n`, /password/],
  ["credentials in an index URL", "app/setup.conf", `[global]\nindex-url = https://ada:${MARK}@pypi.example.org/simple\n`, /url-password|basicauth/i],
  ["a kubeconfig under another name (client key in base64)", "app/cluster.yml", `apiVersion: v1\nusers:\n- name: x\n  user:\n    client-key-data: ${Buffer.from(PEM).toString("base64")}\n`, /private-key-block/],
  ["a kubeconfig under another name (bearer token)", "app/cluster.yml", `users:\n- name: x\n  user:\n    token: ${MARK}0123456789abcdef\n`, /password/],
  ["a registry token as YAML", "app/registries.yml", `npmRegistries:\n  "https://r.example":\n    npmAuthToken: "c0ffee12-3456-7890-${MARK}"\n`, /password/],
  ["a Heroku key in an env file's lines", "app/defaults.txt", `HEROKU_API_KEY=01234567-89ab-${MARK}\n`, /password/],
  ["a DSN with a password in a CSV", "app/rows.csv", `id,url\n1,postgresql://week:${MARK}@db:5432/week\n`, /url-password|basicauth/i],
];

/** Names only secret files have: refused even when the allow-list names them, whatever their content. */
const secretNames = [".env", ".env~", ".env-prod", "#.env#", ".env.local", "settings.env", ".flaskenv", ".envrc", ".my.cnf", "pgpass.conf", ".pgpass", ".psql_history", ".bash_history", ".yarnrc.yml", ".npmrc", ".pypirc", "pip.conf", "pip.ini", ".netrc", "kubeconfig", "dev-kubeconfig.yaml", "id_ed25519", "server.pem", "tls.key", "cert.p12", "secrets.toml", ".git-credentials", "credentials.json", "terraform.tfstate", "prod.tfvars", "client.ovpn"];

describe("a build context admits by allow-list", () => {
  it("takes the admitted files and the build files, and leaves the rest of an admitted folder out", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "heroku.yml": "build: {}", ".dockerignore": "*", "requirements.txt": "fastapi", "README.md": "", "app/main.py": "", "app/sub/x.py": "", "app/notes.md": "", "app/__pycache__/main.pyc": "", ".env": `X=${MARK}`, "app/.env": `X=${MARK}` });
    const ctx = context(source, ["requirements.txt", { folder: "app", suffixes: [".py"] }]);
    expect(list(ctx.stagedAt).sort()).toEqual(["Dockerfile", "app/main.py", "app/sub/x.py", "heroku.yml", "requirements.txt"]);
    expect(ctx.leftOut.sort()).toEqual(["app/.env", "app/notes.md"]);
  });

  it("takes nothing but the build files when nothing is admitted", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "app.py": "", "requirements.txt": "" });
    expect(list(context(source, []).stagedAt)).toEqual(["Dockerfile"]);
  });

  it("keeps an entrypoint's permission bits", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "entrypoint.sh": "#!/bin/sh\n" });
    fs.chmodSync(path.join(source, "entrypoint.sh"), 0o755);
    expect(fs.statSync(path.join(context(source, ["entrypoint.sh"]).stagedAt, "entrypoint.sh")).mode & 0o111).not.toBe(0);
  });

  it("takes the Dockerfile heroku.yml names, and scans heroku.yml itself (its setup config reaches the app)", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "Dockerfile.web": "FROM y", "heroku.yml": "build:\n  docker:\n    web: Dockerfile.web\n" });
    expect(list(context(source, []).stagedAt).sort()).toEqual(["Dockerfile", "Dockerfile.web", "heroku.yml"]);
    write(source, { "heroku.yml": `setup:\n  config:\n    API_TOKEN: "${MARK}"\nbuild:\n  docker:\n    web: Dockerfile\n` });
    expect(refusal(source, [])).toMatch(/heroku\.yml: it holds a secret \(password-parameter\)$/);
    write(source, { "heroku.yml": "build:\n  docker:\n    web: ../../etc/passwd\n" });
    expect(refusal(source, [])).toMatch(/: it is outside the source folder$/);
  });

  it("refuses a source file above 16 MiB, naming its size", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "app/dump.csv": Buffer.alloc(16 * 1024 * 1024 + 1, 0x61) });
    expect(refusal(source, ADMIT_APP.slice(1))).toMatch(/app\/dump\.csv: it is 16777217 bytes, more than the 16777216 allowed$/);
  });

  it("names an admitted file that does not exist", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x" });
    expect(refusal(source, ["requirements.txt"])).toBe(`s/ctx: build context refuses ${path.join(source, "requirements.txt")}: it does not exist`);
  });
});

describe("a build context refuses links and special files", () => {
  const setup = () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "app/main.py": "", "outside.env": `TOKEN=${MARK}` });
    return source;
  };

  it.each([
    ["a symbolic link", (s: string) => fs.symlinkSync(path.join(s, "outside.env"), path.join(s, "app", "config.py")), /app\/config\.py: it is a symbolic link/],
    ["a dangling symbolic link", (s: string) => fs.symlinkSync("/nonexistent/x", path.join(s, "app", ".#main.py")), /app\/\.#main\.py: it is a symbolic link/],
    ["a hard link to an env file", (s: string) => fs.linkSync(path.join(s, "outside.env"), path.join(s, "app", "settings.py")), /app\/settings\.py: it is a hard link/],
    ["a named pipe", (s: string) => execFileSync("mkfifo", [path.join(s, "app", "pipe.py")]), /app\/pipe\.py: it is a named pipe/],
    ["a linked folder", (s: string) => fs.symlinkSync(os.homedir(), path.join(s, "app", "home")), /app\/home: it is a symbolic link/],
  ])("refuses %s in an admitted folder, naming it", (_what, plant, message) => {
    const source = setup();
    plant(source);
    const include: ContextEntry[] = [{ folder: "app", suffixes: [".py", ""] }];
    expect(refusal(source, include)).toMatch(message);
  });

  it("keeps the refusal on one line when the file's name holds a line break", () => {
    const source = setup();
    fs.symlinkSync(path.join(source, "outside.env"), path.join(source, "app", "a\nb.py"));
    expect(refusal(source, [{ folder: "app", suffixes: [".py"] }])).toMatch(/app\/a\\nb\.py: it is a symbolic link/);
  });

  it("refuses a linked file or folder that the allow-list names itself", () => {
    const source = setup();
    fs.symlinkSync(path.join(source, "outside.env"), path.join(source, "requirements.txt"));
    expect(refusal(source, ["requirements.txt"])).toMatch(/requirements\.txt: it is a symbolic link/);
    fs.symlinkSync(path.join(source, "app"), path.join(source, "code"));
    expect(refusal(source, [{ folder: "code", suffixes: [".py"] }])).toMatch(/code: it is a symbolic link/);
  });
});

describe("a build context scans every admitted file by content", () => {
  it.each(encodings)("finds a private key in %s", (_encoding, bytes) => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "requirements.txt": "", "app/main.py": "", "app/config.py": bytes });
    expect(refusal(source, ADMIT_APP)).toBe(`s/ctx: build context refuses ${path.join(source, "app/config.py")}: it holds a secret (private-key-block)`);
  });

  it.each(contents)("finds %s", (_what, file, content, kind) => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "requirements.txt": "", [file]: content });
    const message = refusal(source, ADMIT_APP);
    expect(message).toContain(`${path.join(source, file)}: it holds a secret (`);
    expect(message).toMatch(kind);
  });

  it.each(secretNames)("refuses a file named %s even when the allow-list names it", (name) => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", [name]: "nothing secret in here\n" });
    expect(refusal(source, [name])).toBe(`s/ctx: build context refuses ${path.join(source, name)}: it has a name only secret files have`);
  });

  it("refuses a secret written into the context by the construct (a rendered file)", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x" });
    expect(refusal(source, [], { files: { "ml/train.args": `--data=x\n--token=${MARK}\n` } })).toMatch(/refuses the file written as ml\/train\.args: it holds a secret \(password-/);
    expect(refusal(source, [], { files: { ".env": "X=1" } })).toMatch(/refuses the file written as \.env: it has a name only secret files have/);
  });

  it("keeps ordinary sources, templates and the course's data", () => {
    const source = path.join(root, "src");
    write(source, {
      Dockerfile: "FROM x",
      "requirements.txt": "fastapi==0.115.0\n",
      "app/config.py": 'class Settings:\n    database_url: str\n    api_token: str | None = None\n    password: SecretStr\n',
      "app/environment.yml": "name: week\n",
      "app/.env.example": "POSTGRES_PASSWORD=change-me\n",
      "app/tweets.csv": fs.readFileSync(path.join(WORKLOADS, "api", "ml", "data", "sample.csv")),
    });
    expect(list(context(source, ADMIT_APP).stagedAt).sort()).toEqual(["Dockerfile", "app/config.py", "app/environment.yml", "app/tweets.csv", "requirements.txt"]);
  });
});

describe("a build context refuses archives it does not list", () => {
  const zipWithEnv = (file: string) =>
    execFileSync("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED); z.writestr('.env', 'TOKEN=' + sys.argv[2] * 40); z.close()", file, MARK]);

  it.each([
    ["a zip holding an .env", "app/data.csv", (f: string) => zipWithEnv(f), /zip archive/],
    ["a zip after a prefix", "app/tool.py", (f: string) => { zipWithEnv(`${f}.zip`); fs.writeFileSync(f, Buffer.concat([Buffer.from("#!/usr/bin/env python3\n"), fs.readFileSync(`${f}.zip`)])); fs.rmSync(`${f}.zip`); }, /zip archive/],
    ["a tar", "app/bundle.txt", (f: string) => execFileSync("tar", ["-cf", f, "-C", path.dirname(f), "main.py"]), /tar archive/],
    ["a gzip stream", "app/rows.csv", (f: string) => execFileSync("python3", ["-c", "import gzip, sys; open(sys.argv[1], 'wb').write(gzip.compress(b'TOKEN=' + sys.argv[2].encode()))", f, MARK]), /gzip archive/],
    ["an xz stream", "app/rows.csv", (f: string) => execFileSync("python3", ["-c", "import lzma, sys; open(sys.argv[1], 'wb').write(lzma.compress(b'TOKEN=' + sys.argv[2].encode()))", f, MARK]), /xz archive/],
    ["a bzip2 stream", "app/rows.txt", (f: string) => execFileSync("python3", ["-c", "import bz2, sys; open(sys.argv[1], 'wb').write(bz2.compress(b'TOKEN=' + sys.argv[2].encode()))", f, MARK]), /bzip2 archive/],
  ])("refuses %s, naming it", (_what, file, make, kind) => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "requirements.txt": "", "app/main.py": "" });
    make(path.join(source, file));
    const message = refusal(source, ADMIT_APP);
    expect(message).toContain(`${path.join(source, file)}: it is a `);
    expect(message).toMatch(kind);
  });

  it("takes an archive the allow-list lists", () => {
    const source = path.join(root, "src");
    write(source, { Dockerfile: "FROM x", "app/main.py": "" });
    execFileSync("tar", ["-czf", path.join(source, "app", "assets.txt"), "-C", path.join(source, "app"), "main.py"]);
    expect(list(context(source, ADMIT_APP.slice(1), { archives: ["app/assets.txt"] }).stagedAt).sort()).toEqual(["Dockerfile", "app/assets.txt", "app/main.py"]);
  });
});

/** Each workload: its Dockerfile, its folder and its allow-list. */
const workloads: Array<[string, string, () => string, WorkloadContext]> = [
  ["api", path.join(WORKLOADS, "api"), () => fs.readFileSync(path.join(WORKLOADS, "api", "Dockerfile"), "utf8"), API_CONTEXT],
  ["streamlit", path.join(WORKLOADS, "streamlit"), () => fs.readFileSync(path.join(WORKLOADS, "streamlit", "Dockerfile"), "utf8"), STREAMLIT_CONTEXT],
  ["sandbox", path.join(WORKLOADS, "sandbox"), () => renderSandboxDockerfile({ gitUserName: "Ada", gitUserEmail: "ada@example.org" }), SANDBOX_CONTEXT],
];

describe("each workload's allow-list is what its Dockerfile copies", () => {
  it.each(workloads)("%s: every COPY/ADD source is admitted and every admitted file is copied", (_name, source, dockerfile, contents) => {
    const ctx = new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source, include: contents.admit, files: { Dockerfile: dockerfile() } });
    expect(contextCopyProblems(dockerfile(), list(ctx.stagedAt))).toEqual([]);
    expect(copySources(dockerfile()).length).toBeGreaterThan(0);
  });

  it("fails when a Dockerfile copies a source the allow-list does not admit, or an admitted file is copied by nothing", () => {
    const dockerfile = fs.readFileSync(path.join(WORKLOADS, "streamlit", "Dockerfile"), "utf8");
    const staged = ["Dockerfile", ...STREAMLIT_CONTEXT.admit.map(String)];
    expect(contextCopyProblems(`${dockerfile}\nCOPY secrets/ /app/secrets/\n`, staged)).toEqual(["COPY secrets: the context does not admit it"]);
    expect(contextCopyProblems(dockerfile, [...staged, "notes.txt"])).toEqual(["notes.txt: admitted, but no COPY or ADD reads it"]);
    expect(contextCopyProblems(`${dockerfile}\nADD --chown=1:1 ["data dir/x.csv", "/x"]\nCOPY --from=builder /opt /opt\nCOPY *.py /app/\n`, staged)).toEqual([
      "COPY data dir/x.csv: the context does not admit it",
      "COPY *.py: a wildcard source; name the files",
    ]);
  });

  // Docker cannot say "only *.py below app/" (an excluded folder is not walked for exceptions; a
  // folder exception takes all it holds), so .dockerignore admits whole folders: the same files
  // on the sources as shipped, wider than the allow-list on a folder with strays.
  it.each(workloads.filter(([name]) => name !== "sandbox"))("%s: its .dockerignore (docker compose builds from the folder) admits the same files on the sources", (_name, source, _dockerfile, contents) => {
    const ignore = dockerignore({ ignorecase: false }).add(fs.readFileSync(path.join(source, ".dockerignore"), "utf8").split(/\r?\n/));
    const all = list(source).filter((f) => !f.includes("__pycache__") && !f.includes(".pytest_cache") && !f.includes(".mypy_cache") && !f.includes(".ruff_cache"));
    const ctx = new BuildContext(new TerraformStack(testApp(), "s"), "ctx", { source, include: contents.admit });
    const admitted = list(ctx.stagedAt).filter((f) => f !== "Dockerfile" && f !== "heroku.yml").sort();
    expect(all.filter((f) => !ignore.ignores(f) && f !== "Dockerfile" && f !== ".dockerignore" && f !== "heroku.yml").sort()).toEqual(admitted);
  });
});

describe("secrets planted in copies of the workloads", () => {
  jest.setTimeout(120000);

  /** Files planted outside what the allow-lists admit: left out, synth goes on. */
  const beside: Record<string, string | Buffer> = {
    ...Object.fromEntries(secretNames.map((n) => [n, `TOKEN=${MARK}\n`])),
    "nested/deeper/.env-dev": `POSTGRES_PASSWORD=${MARK}`,
    "notebooks/explore.ipynb": JSON.stringify({ cells: [{ outputs: [{ text: [`ghp_aBcDeFgHiJkLmNoPqRs${MARK}`] }] }] }),
    "keys/any-name.txt": PEM,
    "app/.env": `X=${MARK}`,
    "app/.env-dev": `X=${MARK}`,
    "app/notes.md": `password=${MARK}`,
    "ml/data/.env~": `X=${MARK}`,
    ".dockerignore": "!*\n",
  };

  function synthCopies(plant: Record<string, Record<string, string | Buffer>>): { outdir: string; api: HerokuContainerApp } {
    const copies: Record<string, string> = {};
    for (const workload of ["api", "streamlit"]) {
      copies[workload] = path.join(root, workload);
      fs.cpSync(path.join(WORKLOADS, workload), copies[workload], { recursive: true });
      write(copies[workload], plant[workload] ?? {});
    }
    const outdir = path.join(root, "out");
    const app = new App({ outdir });
    const local = new TerraformStack(app, "local");
    new DockerProvider(local, "docker", {});
    buildWorkloadImage(new Construct(local, "api"), { source: copies.api, contents: API_CONTEXT, repository: "week-api" });
    buildWorkloadImage(new Construct(local, "streamlit"), { source: copies.streamlit, contents: STREAMLIT_CONTEXT, repository: "week-streamlit" });
    const heroku = new TerraformStack(app, "heroku");
    new HerokuProvider(heroku, "heroku", {});
    const api = new HerokuContainerApp(heroku, "api", { name: "week-api", source: copies.api, contents: API_CONTEXT });
    new HerokuContainerApp(heroku, "streamlit", { name: "week-streamlit", source: copies.streamlit, contents: STREAMLIT_CONTEXT });
    app.synth();
    return { outdir, api };
  }

  it("beside the admitted files: reach no output (cdktf.out, and the folder the Heroku build tars)", () => {
    const { outdir, api } = synthCopies({ api: beside, streamlit: beside });
    const everything = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? everything(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    const files = everything(outdir);
    expect(files.some((f) => f.endsWith("app/main.py"))).toBe(true);
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      expect(bytes.toString("latin1")).not.toContain(MARK);
      expect(bytes.toString("latin1")).not.toContain("PRIVATE KEY");
    }
    const build = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "heroku", "cdk.tf.json"), "utf8")).resource.heroku_build;
    const sourcePath = (Object.values(build)[0] as { source: { path: string } }).source.path;
    expect(sourcePath).toBe(api.context.path);
    const archived = list(path.join(outdir, "stacks", "heroku", sourcePath)).sort();
    expect(archived).toEqual(list(api.context.stagedAt).sort());
    expect(archived).toEqual(expect.arrayContaining(["Dockerfile", "heroku.yml", "requirements.lock", "app/main.py", "ml/data/sample.csv"]));
    expect(archived.filter((f) => !/\.(py|csv|args|lock)$/.test(f))).toEqual(["Dockerfile", "heroku.yml"]);
    expect(api.context.leftOut).toEqual(expect.arrayContaining(["app/.env", "app/.env-dev", "app/notes.md", "ml/data/.env~"]));
  });

  it.each([
    ["api", "app/core/defaults.py", `TOKEN = "ghp_aBcDeFgHiJkLmNoPqRs${MARK}"\n`],
    ["api", "ml/data/extra.csv", Buffer.from(`text,label\n"${PEM}",0\n`, "utf16le")],
    ["api", "app/explore.py", Buffer.concat([Buffer.alloc(2 * 1024 * 1024, 0x23), Buffer.from(`\n${PEM}`)])],
    ["api", "ml/weights.csv", Buffer.from("PK\x03\x04 zip content", "latin1")],
    ["streamlit", "requirements.lock", `--index-url https://ada:${MARK}@pypi.example.org/simple\nstreamlit==1.40.0\n`],
  ])("inside what %s admits (%s): stop synth with one line naming the file", (workload, file, content) => {
    expect(() => synthCopies({ [workload]: { [file]: content } })).toThrow(new RegExp(`build context refuses ${path.join(root, workload, file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: it (holds a secret|is a zip archive)`));
    const outdir = path.join(root, "out");
    if (fs.existsSync(outdir)) for (const f of list(outdir)) expect(fs.readFileSync(path.join(outdir, f), "latin1")).not.toContain(MARK);
  });
});

describe("files whose content goes into the synthesised document (the database's init scripts)", () => {
  const postgres = (initScripts: string[]) => {
    const stack = new TerraformStack(testApp(), "s");
    new DockerProvider(stack, "docker", {});
    new RandomProvider(stack, "random", {});
    return () => new PostgresService(stack, "database", { network: new PrivateNetwork(stack, "net"), initScripts });
  };

  it("takes the shipped init script", () => {
    expect(postgres([path.join(WORKLOADS, "database", "initdb", "001-course.sql")])).not.toThrow();
  });

  it.each([
    ["a password in a script", (f: string) => fs.writeFileSync(f, `CREATE ROLE app LOGIN PASSWORD '${MARK}';\nALTER ROLE app SET x = 'postgresql://app:${MARK}@db/week';\n`), /: it holds a secret \(/],
    ["a symbolic link", (f: string) => fs.symlinkSync("/etc/passwd", f), /: it is a symbolic link/],
    ["a hard link", (f: string) => { fs.writeFileSync(`${f}.orig`, "select 1;"); fs.linkSync(`${f}.orig`, f); }, /: it is a hard link/],
  ])("refuses %s with one line naming the file", (_what, plant, message) => {
    const file = path.join(root, "002-extra.sql");
    plant(file);
    expect(postgres([file])).toThrow(BuildContextError);
    expect(postgres([file])).toThrow(new RegExp(`s/database/[^ ]+: refuses ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${message.source}`));
  });
});
