import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import { reportCsv, reportHtml, reportMarkdown, runChecks, TPS } from "../tools/classroom/checks";
import { parseWeekConfig } from "../config/load";
import { proxyCertificate, targetFromFlags, targetOfStudent } from "../tools/classroom/commands/check";
import { ensureSelfSignedCertificate, ensureStudentSecrets, selfSignedFiles } from "../tools/classroom/secrets";

let server: http.Server;
let base: string;

beforeAll(async () => {
  // answers / like the course's API, /predict never (a student whose model hangs), /slow after 3 s
  server = http.createServer((req, res) => {
    if (req.url === "/") res.end('{"message":"Hello World"}');
    else if (req.url === "/predict") return;
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const root = `${__dirname}/..`;
const ROOT_DIR = root;

test("a hanging request is an error after the request timeout, and the other checks still run", async () => {
  const results = await runChecks("TP4", [{ student: "ada", apiUrl: base }], { root, requestTimeoutS: 1 });
  expect(results).toEqual([
    { student: "ada", check: "hello", status: "pass", detail: 'GET / answered 200: {"message":"Hello World"}' },
    { student: "ada", check: "predict", status: "error", detail: "POST " + base + "/predict: no answer: timed out" },
  ]);
});

test("a student whose checks overrun the student timeout is one error line, and the class goes on", async () => {
  const started = Date.now();
  const results = await runChecks(
    "TP4",
    [
      { student: "ada", apiUrl: base },
      { student: "bob" },
    ],
    { root, requestTimeoutS: 30, studentTimeoutS: 1 },
  );
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(results).toEqual([
    { student: "ada", check: "TP4", status: "error", detail: "timed out after 1 s" },
    { student: "bob", check: "hello", status: "error", detail: "no deployed URL for this student (api_url in the roster, or --url)" },
  ]);
});

test("an unknown TP is refused naming the value", async () => {
  await expect(runChecks("TP9", [], { root })).rejects.toThrow('the TP must be one of TP1, TP2, TP3, TP4, TP5, got "TP9"');
});

test("reports: CSV with its header and quoting, Markdown with escaped pipes, HTML escaped and coloured", () => {
  const results = [
    { student: "ada", check: "table", status: "pass" as const, detail: "public.students: 8 columns" },
    { student: "bob", check: "table", status: "fail" as const, detail: 'a "quoted", | <b>detail</b>' },
  ];
  expect(reportCsv(results)).toBe('student,check,status,detail\nada,table,pass,public.students: 8 columns\nbob,table,fail,"a ""quoted"", | <b>detail</b>"\n');
  const md = reportMarkdown("tp5", results);
  expect(md).toContain(`# TP5: ${TPS.TP5.title}`);
  expect(md).toContain("1/2 students pass every check; 1 pass, 1 fail, 0 error");
  expect(md).toContain('| bob | table | **fail** | a "quoted", \\| <b>detail</b> |');
  const html = reportHtml("TP5", results);
  expect(html).toContain('<td class="fail"><b>fail</b><br><small>a &#34;quoted&#34;, | &#60;b&#62;detail&#60;/b&#62;</small></td>');
  expect(html).not.toContain("<b>detail</b>");
});

test("--url is the target of whichever TP is checked; the Jupyter token comes from the environment, not the command line", () => {
  expect(targetFromFlags("TP3", { url: "http://127.0.0.1:8080", student: "local" })).toEqual({ student: "local", apiUrl: "http://127.0.0.1:8080" });
  expect(targetFromFlags("TP1", { url: "http://127.0.0.1:8000", container: "week-sandbox", student: "local" }, { JUPYTER_TOKEN: "t0k" })).toEqual({
    student: "local",
    sandboxUrl: "http://127.0.0.1:8000",
    token: "t0k",
    sandboxContainer: "week-sandbox",
  });
  expect(targetFromFlags("TP5", { url: "postgresql://week@db/week", student: "local" })).toEqual({ student: "local", databaseUrl: "postgresql://week@db/week", databaseContainer: undefined });
});

describe("the class's targets", () => {
  let state: string;
  beforeAll(() => {
    state = fs.mkdtempSync(path.join(os.tmpdir(), "classroom-targets-"));
  });
  afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

  const student = { id: "ada", name: "Ada", email: "ada@example.org", apiUrl: "https://ada-week.herokuapp.com", line: 2 };

  test("each TP looks where the classroom stack puts the student: behind the proxy, in <course>-<id>-<service>, or the roster's api_url", () => {
    const config = parseWeekConfig({ classroom: { roster: "roster.csv", course: "m2", services: ["sandbox", "database", "api", "streamlit"], proxy: { hostPort: 9443, serverName: "lab.example.org" } } });
    expect(targetOfStudent("TP1", student, config, "tok")).toEqual({ student: "ada", sandboxUrl: "https://lab.example.org:9443/ada/jupyter/", token: "tok", sandboxContainer: "m2-ada-sandbox" });
    expect(targetOfStudent("TP2", student, config)).toEqual({ student: "ada", streamlitUrl: "https://lab.example.org:9443/ada/app/" });
    expect(targetOfStudent("TP3", student, config)).toEqual({ student: "ada", apiUrl: "https://lab.example.org:9443/ada/api/" });
    expect(targetOfStudent("TP4", student, config)).toEqual({ student: "ada", apiUrl: "https://ada-week.herokuapp.com" });
    expect(targetOfStudent("TP5", student, config)).toEqual({ student: "ada", databaseContainer: "m2-ada-database" });
    const noApi = parseWeekConfig({ classroom: { roster: "roster.csv" } });
    expect(targetOfStudent("TP3", student, noApi).apiUrl).toBe("https://ada-week.herokuapp.com");
  });

  test("the proxy's self-signed certificate is trusted for the class's requests, and only with it", async () => {
    const config = parseWeekConfig({ classroom: { roster: "roster.csv", course: "m2" } });
    ensureStudentSecrets(state, "m2", { file: "roster.csv", students: [student] }, { user: "week", database: "week" });
    expect(proxyCertificate(state, config)).toBeUndefined();
    await ensureSelfSignedCertificate(state, "m2", "localhost");
    const ca = proxyCertificate(state, config) as string;
    expect(ca).toBe(path.join(state, selfSignedFiles("m2").certificate));
    const server = https.createServer({ cert: fs.readFileSync(ca), key: fs.readFileSync(path.join(state, selfSignedFiles("m2").key)) }, (_req, res) => res.end('{"message":"Hello World"}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `https://localhost:${(server.address() as AddressInfo).port}`;
    try {
      const trusted = await runChecks("TP4", [{ student: "ada", apiUrl: url }], { root: ROOT_DIR, caFile: ca, requestTimeoutS: 5 });
      expect(trusted[0]).toEqual({ student: "ada", check: "hello", status: "pass", detail: 'GET / answered 200: {"message":"Hello World"}' });
      const untrusted = await runChecks("TP4", [{ student: "ada", apiUrl: url }], { root: ROOT_DIR, requestTimeoutS: 5 });
      expect(untrusted[0].status).toBe("error");
      expect(untrusted[0].detail).toMatch(/^GET https:\/\/localhost:\d+\/: no answer: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

test("a URL's credentials never reach the report", async () => {
  const results = await runChecks("TP4", [{ student: "ada", apiUrl: "http://ada:hunter2@127.0.0.1:1/?token=s3cret" }], { root, requestTimeoutS: 2 });
  expect(results.map((r) => r.status)).toEqual(["error", "error"]);
  for (const r of results) {
    expect(r.detail).not.toMatch(/hunter2|s3cret/);
    expect(r.detail).toContain("http://***@127.0.0.1:1/");
  }
});
