/**
 * What reaches the configuration loader from outside: odd files and odd values. Each is one
 * line naming the file or the field and the value, never a stack trace; values that reach git,
 * a shell or Docker refuse control and invisible characters and option-like text; a URL's
 * credentials are refused and never shown back.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadWeekConfig, parseWeekConfig, WeekConfigError } from "../config/load";
import { maskUrl } from "../config/names";
import { weekConfigJsonSchema } from "../config/json-schema";
import { TerraformStack } from "cdktf";
import { SandboxImage } from "../constructs/local/sandbox-image";
import { problemsOf, testApp } from "./helpers";

const ROOT = path.join(__dirname, "..");
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-config-input-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The one-line message loading fails with; fails if the configuration is accepted. */
function failure(env: NodeJS.ProcessEnv): string {
  try {
    loadWeekConfig(env, dir);
  } catch (error) {
    expect(error).toBeInstanceOf(WeekConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

const file = (name: string, content: string | Buffer) => {
  fs.writeFileSync(path.join(dir, name), content);
  return name;
};
const utf16 = (text: string, bom: boolean) => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, "utf16le")]);

// [what, set up the case and return WEEK_CONFIG (undefined: week.config.json), what the one line says]
const badFiles: Array<[string, () => string | undefined, string]> = [
  ["WEEK_CONFIG naming a folder", () => (fs.mkdirSync(path.join(dir, "conf")), "conf"), 'conf is invalid: is a folder, not a file (WEEK_CONFIG="conf")'],
  ["week.config.json that is a folder", () => (fs.mkdirSync(path.join(dir, "week.config.json")), undefined), "week.config.json is invalid: is a folder, not a file"],
  ["/dev/zero", () => "/dev/zero", '/dev/zero is invalid: is a character device, not a regular file (WEEK_CONFIG="/dev/zero")'],
  ["a named pipe", () => (spawnSync("mkfifo", [path.join(dir, "pipe")]), "pipe"), 'pipe is invalid: is a named pipe, not a regular file (WEEK_CONFIG="pipe")'],
  ["an empty WEEK_CONFIG", () => "", 'WEEK_CONFIG is invalid: is empty; unset it to read week.config.json, or name a file, got ""'],
  ["a blank WEEK_CONFIG", () => "  ", 'WEEK_CONFIG is invalid: is empty; unset it to read week.config.json, or name a file, got "  "'],
  ["a missing file", () => "nope.json", 'nope.json is invalid: WEEK_CONFIG names a file that does not exist, got "nope.json"'],
  ["a symlink loop", () => (fs.symlinkSync("b.json", path.join(dir, "a.json")), fs.symlinkSync("a.json", path.join(dir, "b.json")), "a.json"), 'a.json is invalid: is a symbolic link loop (WEEK_CONFIG="a.json")'],
  ["a dangling week.config.json link", () => (fs.symlinkSync("gone.json", path.join(dir, "week.config.json")), undefined), "week.config.json is invalid: is a symbolic link to a file that does not exist"],
  ["a UTF-16 file with its byte order mark", () => file("w.json", utf16('{"api": {}}', true)), "w.json is invalid: is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8"],
  ["a UTF-16 file without a byte order mark", () => file("w.json", utf16('{"api": {}}', false)), "w.json is invalid: holds a NUL byte at offset 1 (UTF-16 or UTF-32 text?); save it as UTF-8"],
  ["Latin-1 text", () => file("w.json", Buffer.from('{"sandbox": {"gitUserName": "Ren\xe9"}}', "latin1")), "w.json is invalid: is not valid UTF-8; save it as UTF-8"],
  ["a file over 1 MiB", () => file("w.json", `{"a": "${"x".repeat(1024 * 1024)}"}`), "w.json is invalid: is 1048585 bytes, more than the 1048576 a configuration may have"],
  ["a top-level null", () => file("w.json", "null"), "w.json is invalid: must hold a JSON object of settings, got null"],
  ["a top-level list", () => file("w.json", "[]"), "w.json is invalid: must hold a JSON object of settings, got []"],
  ["a top-level string", () => file("w.json", '"api"'), 'w.json is invalid: must hold a JSON object of settings, got "api"'],
  ["a key twice at the top", () => file("w.json", '{"api": {}, "api": {"hostPort": 1}}'), 'w.json is invalid: the configuration has the key "api" twice (again at line 1 column 13): JSON readers disagree on which one wins'],
  ["a key twice in a section", () => file("w.json", '{"api": {"hostPort": 9000,\n "hostPort": 9001}}'), 'w.json is invalid: api has the key "hostPort" twice (again at line 2 column 2)'],
  ["a number that overflows", () => file("w.json", '{"api": {"hostPort": 1e400}}'), "w.json is invalid: api.hostPort must be a number JSON can hold, got 1e400"],
  ["a negative number that overflows", () => file("w.json", '{"gcp": {"minInstances": -1e400}}'), "w.json is invalid: gcp.minInstances must be a number JSON can hold, got -1e400"],
  ["an integer beyond 2^53", () => file("w.json", '{"heroku": {"dynoQuantity": 9007199254740993}}'), "w.json is invalid: heroku.dynoQuantity is too large to be read exactly, got 9007199254740993"],
  ["a comment", () => file("w.json", '{\n// ports\n"api": {}}'), "w.json is invalid: is not valid JSON: InvalidCommentToken at line 2 column 1"],
  ["a trailing comma", () => file("w.json", '{"api": {},}'), "w.json is invalid: is not valid JSON: PropertyNameExpected at line 1 column 12"],
  ["text that is not JSON", () => file("w.json", "api:\n  hostPort: 9000\n"), "w.json is invalid: is not valid JSON: InvalidSymbol at line 1 column 1"],
  ["deep nesting", () => file("w.json", "[".repeat(200000) + "]".repeat(200000)), "w.json is invalid: "],
];

describe("loading an odd configuration file", () => {
  it.each(badFiles)("refuses %s in one line", (_what, setUp, expected) => {
    const named = setUp();
    const message = failure(named === undefined ? {} : { WEEK_CONFIG: named });
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("refuses a file it may not read, naming it", () => {
    const name = file("locked.json", "{}");
    fs.chmodSync(path.join(dir, name), 0o000);
    if (process.getuid?.() !== 0) {
      expect(failure({ WEEK_CONFIG: name })).toBe('locked.json is invalid: cannot be read: permission denied (WEEK_CONFIG="locked.json")');
      return;
    }
    // root reads any file: load as an unprivileged user in a child process instead, which
    // loads the code as root first (the checkout may lie under a folder only root may enter).
    fs.chmodSync(dir, 0o755);
    const script = `const { loadWeekConfig } = require("./config/load"); process.setgid(65534); process.setuid(65534); try { loadWeekConfig({ WEEK_CONFIG: ${JSON.stringify(name)} }, ${JSON.stringify(dir)}) } catch (e) { console.log(e.message) }`;
    const run = spawnSync(process.execPath, ["-r", "@swc-node/register", "-e", script], { cwd: ROOT, encoding: "utf8", env: { ...process.env, SWC_NODE_CACHE: "false" } });
    expect(run.stdout.trim()).toBe('locked.json is invalid: cannot be read: permission denied (WEEK_CONFIG="locked.json")');
  });

  // [what, the file's bytes, a setting it must give]
  const goodFiles: Array<[string, string | Buffer, (c: ReturnType<typeof loadWeekConfig>) => unknown, unknown]> = [
    ["a UTF-8 byte order mark", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"api": {"hostPort": 9090}}')]), (c) => c.api.hostPort, 9090],
    ["an empty file", "", (c) => c.api.hostPort, 8080],
    ["blank lines", "\n \n", (c) => c.api.hostPort, 8080],
    ["UTF-8 beyond ASCII", '{"sandbox": {"gitUserName": "René Ångström"}}', (c) => c.sandbox.gitUserName, "René Ångström"],
    ["a large exact number", '{"api": {"hostPort": 9.09e3}}', (c) => c.api.hostPort, 9090],
  ];
  it.each(goodFiles)("reads %s", (_what, content, get, expected) => {
    file("week.config.json", content);
    expect(get(loadWeekConfig({}, dir))).toBe(expected);
  });
});

const SECRET = "ghp_s3cr3tT0ken";

// [what, configuration, what the message says]
const badValues: Array<[string, object, string]> = [
  ["a zero-width space in the git user name", { sandbox: { gitUserName: "Ada\u200bLovelace" } }, "sandbox.gitUserName must not contain control or invisible characters (U+200B at position 4)"],
  ["a right-to-left override in the git user name", { sandbox: { gitUserName: "Ada \u202egnp.exe" } }, "U+202E"],
  ["a bell in the git user name", { sandbox: { gitUserName: "Ada\u0007" } }, "U+0007"],
  ["a tab in the git user name", { sandbox: { gitUserName: "Ada\tL" } }, "U+0009"],
  ["a byte order mark in the git user name", { sandbox: { gitUserName: "\ufeffAda" } }, "U+FEFF"],
  ["a lone surrogate in the git user name", { sandbox: { gitUserName: "Ada\ud800" } }, "U+D800"],
  ["a private-use character in the git user name", { sandbox: { gitUserName: "Ada\ue000" } }, "U+E000"],
  ["an unknown key with a control character, shown escaped", { "a\u0000b": 1 }, '"a\\u0000b" is not a known setting'],
  ["a very long unknown key, shown shortened", { ["k".repeat(5000)]: 1 }, '"kkkkkkkkkk'],
  ["a Hangul filler in the git user name", { sandbox: { gitUserName: "Ada\u3164" } }, "U+3164"],
  ["an option as the git user name", { sandbox: { gitUserName: "-oProxyCommand=touch /tmp/x" } }, 'sandbox.gitUserName must not start with a dash (it would be read as an option), got "-oProxyCommand=touch /tmp/x"'],
  ["an option as the git e-mail", { sandbox: { gitUserEmail: "-oProxyCommand=x@example.com" } }, "sandbox.gitUserEmail must not start with a dash"],
  ["a zero-width joiner in the git e-mail", { sandbox: { gitUserEmail: "ada\u200d@example.com" } }, "sandbox.gitUserEmail must not contain control or invisible characters (U+200D"],
  ["a token as the URL's user", { sandbox: { gitRepositoryUrl: `https://${SECRET}@github.com/ada/week.git` } }, 'sandbox.gitRepositoryUrl must not contain a user, password or token; give a token as TF_VAR_git_token at deploy time, got "https://***@github.com/ada/week.git"'],
  ["a user and password", { sandbox: { gitRepositoryUrl: `https://ada:${SECRET}@github.com/ada/week.git` } }, '"https://***@github.com/ada/week.git"'],
  ["oauth2 user with a token", { sandbox: { gitRepositoryUrl: `https://oauth2:${SECRET}@gitlab.com/ada/week.git` } }, "must not contain a user, password or token"],
  ["an ssh password", { sandbox: { gitRepositoryUrl: `ssh://git:${SECRET}@github.com/ada/week.git` } }, '"ssh://***@github.com/ada/week.git"'],
  ["a token parameter", { sandbox: { gitRepositoryUrl: `https://github.com/ada/week.git?token=${SECRET}` } }, 'must not carry a token in its query (token); give it as TF_VAR_git_token at deploy time, got "https://github.com/ada/week.git?token=***"'],
  ["access_token", { sandbox: { gitRepositoryUrl: `https://host/x.git?ref=main&access_token=${SECRET}` } }, '"https://host/x.git?ref=main&access_token=***"'],
  ["private_token", { sandbox: { gitRepositoryUrl: `https://gitlab.com/x.git?private_token=${SECRET}` } }, "(private_token)"],
  ["an Azure SAS signature", { sandbox: { gitRepositoryUrl: `https://host/x.git?sv=2024&sig=${SECRET}` } }, "must not carry a token in its query"],
  ["an S3 presigned URL", { sandbox: { gitRepositoryUrl: `https://bucket.s3.amazonaws.com/x.git?X-Amz-Credential=AKIA&X-Amz-Signature=${SECRET}` } }, "(X-Amz-Credential)"],
  ["a percent-encoded token parameter", { sandbox: { gitRepositoryUrl: `https://host/x.git?%74oken=${SECRET}` } }, "(token)"],
  ["a token in the fragment", { sandbox: { gitRepositoryUrl: `https://github.com/ada/week.git#access_token=${SECRET}` } }, 'must not have a #fragment (git reads none; a token hides there, as in #access_token=); give a token as TF_VAR_git_token at deploy time, got "https://github.com/ada/week.git#***"'],
  ["a bare token as the fragment", { sandbox: { gitRepositoryUrl: `https://github.com/ada/week.git#${SECRET}` } }, '"https://github.com/ada/week.git#***"'],
  ["a fragment after a query", { sandbox: { gitRepositoryUrl: `https://github.com/ada/week.git?ref=main#id_token=${SECRET}` } }, '"https://github.com/ada/week.git?ref=main#***"'],
  ["a token in an scp-form URL's fragment", { sandbox: { gitRepositoryUrl: `git@github.com:ada/week.git#access_token=${SECRET}` } }, 'must not have a #fragment'],
  ["a token in an scp-form URL's query", { sandbox: { gitRepositoryUrl: `git@github.com:ada/week.git?private_token=${SECRET}` } }, '(private_token)'],
  ["an unknown query parameter", { sandbox: { gitRepositoryUrl: `https://host/x.git?x-oss-credential=${SECRET}` } }, 'must not carry the query parameter "x-oss-credential" (only ref, branch, tag, rev, with a branch or tag name)'],
  ["an innocent-looking parameter name", { sandbox: { gitRepositoryUrl: `https://host/x.git?s=${SECRET}` } }, 'got "https://host/x.git?s=***"'],
  ["a token as a ref's value", { sandbox: { gitRepositoryUrl: `https://host/x.git?ref=main&ref=${SECRET}%3D` } }, 'must not carry the query parameter "ref"'],
  ["a parameter after a semicolon", { sandbox: { gitRepositoryUrl: `https://host/x.git?ref=main;sig=${SECRET}` } }, "(sig)"],
  ["a parameter in another case", { sandbox: { gitRepositoryUrl: `https://host/x.git?Private_Token=${SECRET}` } }, "(Private_Token)"],
  ["an option as the ssh host", { sandbox: { gitRepositoryUrl: "ssh://-oProxyCommand=touch%20x/ada/week.git" } }, "must name a host that does not start with a dash"],
  ["an option as the scp host", { sandbox: { gitRepositoryUrl: "git@-oProxyCommand=x:ada/week.git" } }, "must not have a host that starts with a dash"],
  ["an option as the whole URL", { sandbox: { gitRepositoryUrl: "-oProxyCommand=touch /tmp/x" } }, "must not start with a dash"],
  ["an unknown scheme with credentials", { sandbox: { gitRepositoryUrl: `ftp://ada:${SECRET}@host/x.git` } }, 'must be an https://, ssh://, git@host:path or file:// URL, got "ftp://***@host/x.git"'],
  ["a major-only database image", { database: { image: "postgres:17" } }, 'database.image must be pinned to a full release (major.minor at least, such as 17.6-bookworm) or a digest, not a major version or a channel, got "postgres:17"'],
  ["a channel as the sandbox base", { sandbox: { baseImage: "ubuntu:rolling" } }, "sandbox.baseImage must be pinned to a full release"],
  ["the ext transport", { sandbox: { gitRepositoryUrl: "ext::sh -c touch% /tmp/pwned" } }, "must be an https://, ssh://, git@host:path or file:// URL"],
  ["a line break in the URL", { sandbox: { gitRepositoryUrl: "https://github.com/ada/week.git\nRUN curl evil" } }, "must not contain control or invisible characters (U+000A"],
  ["a zero-width space in the URL", { sandbox: { gitRepositoryUrl: "https://git\u200bhub.com/ada/week.git" } }, "U+200B"],
];

describe("values that reach git, a shell or Docker", () => {
  it.each(badValues)("refuses %s, without showing a secret", (_what, raw, expected) => {
    const problems = problemsOf(raw).join("\n");
    expect(problems).toContain(expected);
    expect(problems).not.toContain(SECRET);
  });

  it.each([
    ["https://github.com/ada/week.git"],
    ["https://github.com/ada/week.git?ref=main"],
    ["https://github.com/ada/week.git?branch=feature/tp1&tag=v1.0.2"],
    ["ssh://git@github.com/ada/week.git"],
    ["git@github.com:ada/week.git"],
    ["file:///srv/git/week.git"],
  ])("accepts the repository URL %s", (url) => {
    expect(() => loadWeekConfig({ WEEK_CONFIG: file("w.json", JSON.stringify({ sandbox: { gitRepositoryUrl: url } })) }, dir)).not.toThrow();
  });

  it.each([["Ada Lovelace"], ["René Ångström"], ["李小龍"], ["O'Brien-Smith"]])("accepts the git user name %s", (name) => {
    expect(loadWeekConfig({ WEEK_CONFIG: file("w.json", JSON.stringify({ sandbox: { gitUserName: name } })) }, dir).sandbox.gitUserName).toBe(name);
  });

  it("is checked again where the sandbox image takes it, masked", () => {
    const stack = new TerraformStack(testApp(), "s");
    expect(() => new SandboxImage(stack, "img", { gitUserName: "Ada", gitUserEmail: "ada@example.com", gitRepositoryUrl: `https://${SECRET}@github.com/a/b.git` })).toThrow(
      's/img: gitRepositoryUrl must not contain a user, password or token; give a token as TF_VAR_git_token at deploy time, got "https://***@github.com/a/b.git"',
    );
  });

  it("masks credentials in any URL it shows", () => {
    expect(maskUrl(`https://u:${SECRET}@h/x?a=1&token=${SECRET}#f`)).toBe("https://***@h/x?a=***&token=***#***");
    expect(maskUrl(`https://h/x?ref=main&branch=v1.2#access_token=${SECRET}`)).toBe("https://h/x?ref=main&branch=v1.2#***");
    expect(maskUrl("ssh://git@h/x")).toBe("ssh://git@h/x");
  });
});

/** A valid value for each text setting without a default; a new one must be added here (the test below says so). */
const EXAMPLES: Record<string, string> = {
  "sandbox.gitRepositoryUrl": "https://github.com/ada/week.git",
  "heroku.appName": "ada-week-api",
  "heroku.streamlitAppName": "ada-week-ui",
  "gcp.project": "ada-week-2026",
  "model.data": "labeled_data.csv",
  "model.algorithm": "fast",
  "classroom.roster": "roster.csv",
  "classroom.courseData": "course-data",
};

/** Every text setting of the configuration (from its JSON Schema), with a valid value. */
function textSettings(): Array<[string, string]> {
  const schema = weekConfigJsonSchema() as { properties: Record<string, { properties?: Record<string, { type?: string; default?: unknown }> }> };
  return Object.entries(schema.properties).flatMap(([section, body]) =>
    Object.entries(body.properties ?? {})
      .filter(([, field]) => field.type === "string")
      .map(([name, field]): [string, string] => {
        const key = `${section}.${name}`;
        const value = typeof field.default === "string" ? field.default : EXAMPLES[key];
        if (value === undefined) throw new Error(`${key} has no default: add a valid example to EXAMPLES in config-input.test.ts`);
        return [key, value];
      }),
  );
}

describe("every text setting", () => {
  const settings = textSettings();
  const mutations: Array<[string, (v: string) => string]> = [
    ["a line break", (v) => `${v}\nRUN id`],
    ["a zero-width space", (v) => `${v}\u200b`],
    ["a right-to-left override", (v) => `\u202e${v}`],
    ["a NUL", (v) => `${v}\u0000`],
    ["a leading dash", (v) => `-${v}`],
  ];
  it.each(settings.flatMap(([key, value]) => mutations.map(([what, mutate]) => [key, what, value, mutate] as const)))(
    "%s refuses %s",
    (key, _what, value, mutate) => {
      const [section, name] = key.split(".");
      expect(() => parseWeekConfig({ [section]: { [name]: value } })).not.toThrow();
      const problems = problemsOf({ [section]: { [name]: mutate(value) } });
      expect(problems.some((p) => p.startsWith(`${key} `))).toBe(true);
    },
  );
});

describe("npm run synth on odd input", () => {
  jest.setTimeout(60000);
  it.each([
    ["/dev/zero", () => "/dev/zero", '/dev/zero is invalid: is a character device, not a regular file (WEEK_CONFIG="/dev/zero")'],
    ["duplicate keys", () => path.join(dir, file("w.json", '{"api": {"hostPort": 9000, "hostPort": 9001}}')), 'api has the key "hostPort" twice'],
    ["a token in the repository URL", () => path.join(dir, file("w.json", JSON.stringify({ sandbox: { gitRepositoryUrl: `https://${SECRET}@github.com/a/b.git` } }))), "sandbox.gitRepositoryUrl must not contain a user, password or token"],
  ])("exits 1 with one line for %s, no stack trace, no secret", (_what, setUp, expected) => {
    const outdir = path.join(dir, "out");
    const run = spawnSync(process.execPath, ["-r", "@swc-node/register", "main.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CDKTF_OUTDIR: outdir, WEEK_CONFIG: setUp() },
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(expected);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr + run.stdout).not.toContain(SECRET);
    expect(fs.existsSync(path.join(outdir, "stacks"))).toBe(false);
  });
});
