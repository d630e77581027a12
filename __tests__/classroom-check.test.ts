import * as http from "http";
import type { AddressInfo } from "net";
import { reportCsv, reportHtml, reportMarkdown, runChecks, TPS } from "../tools/classroom/checks";
import { targetFromFlags } from "../tools/classroom/commands/check";

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
