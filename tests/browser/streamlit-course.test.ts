/**
 * Streamlit on the course's three classes, in a real browser (issue 8 §1): Debian's chromium
 * driven by playwright-core types a tweet, clicks Classify, and finds the three class names, the
 * chart and the table. The API and the Streamlit app run from the repository's .venv on free
 * loopback ports, the API serving a model trained with the course's options (on the course's
 * file when ../shared holds it, on a small file of the same shape otherwise), and test_api.sh
 * passes against that API with the classes it reads from /health.
 *
 * Run by scripts/test/browser-test.sh (npm test); skipped, and said so, without /usr/bin/chromium
 * (CHROMIUM overrides the path) or without .venv (scripts/setup/py-env.sh makes it).
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { chromium, type BrowserContext } from "playwright-core";

const ROOT = path.resolve(__dirname, "..", "..");
const PYTHON = path.join(ROOT, ".venv", "bin", "python");
const API = path.join(ROOT, "lambdas-src", "api");
const STREAMLIT = path.join(ROOT, "lambdas-src", "streamlit");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CLASSES = ["hate_speech", "neither", "offensive_language"];
const COURSE_CSV = [
  path.join(ROOT, "..", "shared", "data", "course-tweets", "labeled_data.csv"),
  "/work/shared/data/course-tweets/labeled_data.csv",
].find((file) => fs.existsSync(file));

const missing = !fs.existsSync(CHROMIUM) ? `no chromium at ${CHROMIUM}` : !fs.existsSync(PYTHON) ? `no ${PYTHON} (bash scripts/setup/py-env.sh)` : undefined;
if (missing !== undefined) console.log(`browser test SKIPPED: ${missing}`);
const maybe = missing === undefined ? describe : describe.skip;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, log: () => string, seconds = 90): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${seconds} s:\n${log()}`);
}

function start(command: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; log: () => string } {
  let output = "";
  const child = spawn(command[0], command.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  return { child, log: () => output.slice(-3000) };
}

function courseShapedCsv(file: string): void {
  const words: Record<string, string[]> = {
    "0": ["vile hateful slur", "despise those people", "hateful bigot words"],
    "1": ["stupid rude insult", "shut up idiot", "rude offensive joke"],
    "2": ["sunny weather today", "lovely garden flowers", "great football match"],
  };
  const lines = [",count,hate_speech,offensive_language,neither,class,tweet"];
  for (let i = 0; i < 60; i++) {
    for (const label of ["0", "1", "2"]) lines.push(`${i},3,0,0,3,${label},"RT @user${i}: ${words[label][i % 3]} number ${i} &amp; more"`);
  }
  fs.writeFileSync(file, `${lines.join("\r\n")}\r\n`);
}

maybe("Streamlit on the course's classes, in chromium", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "browser-test-"));
  const servers: ChildProcess[] = [];
  let context: BrowserContext | undefined;
  let apiUrl = "";
  let appUrl = "";

  beforeAll(async () => {
    const data = COURSE_CSV ?? path.join(work, "course-shaped.csv");
    if (COURSE_CSV === undefined) {
      console.log("browser test: the course's data set is absent (../shared), training on a small file of the same shape");
      courseShapedCsv(data);
    }
    const model = path.join(work, "model.joblib");
    const trained = spawnSync(
      PYTHON,
      ["-m", "ml.algo", "--data", data, "--text-column", "tweet", "--label-column", "class", "--label-names", "0=hate_speech,1=offensive_language,2=neither", "--algorithm", "fast", "--out", model],
      { cwd: API, encoding: "utf8", timeout: 180_000 },
    );
    if (trained.status !== 0) throw new Error(`training failed:\n${trained.stdout}\n${trained.stderr}`);

    const [apiPort, appPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    appUrl = `http://127.0.0.1:${appPort}`;
    const api = start([PYTHON, "-m", "app"], API, { HOST: "127.0.0.1", PORT: String(apiPort), MODEL_PATH: model, SQLITE_PATH: path.join(work, "p.sqlite3"), DATABASE_URL: "" });
    servers.push(api.child);
    const app = start(
      [PYTHON, "-m", "streamlit", "run", "streamlit_app.py", `--server.port=${appPort}`, "--server.address=127.0.0.1", "--server.headless=true", "--browser.gatherUsageStats=false"],
      STREAMLIT,
      { API_URL: apiUrl, MODEL_PATH: "" },
    );
    servers.push(app.child);
    await waitFor(`${apiUrl}/health`, api.child, api.log);
    await waitFor(`${appUrl}/_stcore/health`, app.child, app.log);

    context = await chromium.launchPersistentContext(path.join(work, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
    });
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all(
      servers.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
    for (const child of servers) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("serves the course's classes from /health, and test_api.sh passes with them", () => {
    const smoke = spawnSync("bash", [path.join(API, "test", "test_api.sh"), apiUrl], { encoding: "utf8", timeout: 120_000 });
    expect(smoke.stderr).toBe("");
    expect(smoke.stdout).toContain(`prediction's label and probabilities are the model's classes (${CLASSES.join(",")})`);
    expect(smoke.status).toBe(0);
  });

  it("classifies a typed tweet and shows the three classes in the chart and the table", async () => {
    const page = await context!.newPage();
    await page.goto(appUrl);
    const box = page.getByLabel("Text to classify");
    await box.waitFor({ timeout: 60_000 });
    await box.fill("RT @someone: what a lovely sunny day for a football match &amp; a picnic");
    await page.getByRole("button", { name: "Classify" }).click();
    const verdict = page.getByText("Most likely class:");
    await verdict.waitFor({ timeout: 60_000 });
    const label = (await verdict.innerText()).replace("Most likely class:", "").trim();
    expect(CLASSES).toContain(label);

    const chart = page.locator('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').first();
    await chart.waitFor({ timeout: 30_000 });
    const table = page.locator('[data-testid="stDataFrame"]').first();
    await table.waitFor({ timeout: 30_000 });
    let lastTableText = "";
    // The table's cells reach the DOM (the grid's accessible table) a moment after the element
    // itself: wait until they hold the class names instead of reading at once.
    const deadline = Date.now() + 30_000;
    while (!CLASSES.every((n) => lastTableText.includes(n)) && Date.now() < deadline) {
      lastTableText = await table.evaluate((el) => el.textContent ?? "");
      if (!CLASSES.every((n) => lastTableText.includes(n))) await page.waitForTimeout(250);
    }
    // the chart's axis labels (Vega's SVG or its accessible description) and the table's cells
    const chartText = await chart.evaluate((el) => `${el.textContent ?? ""} ${el.querySelector("[aria-label]")?.getAttribute("aria-label") ?? ""}`);
    const tableText = await table.evaluate((el) => el.textContent ?? "");
    for (const name of CLASSES) {
      expect(`${chartText}\n${tableText}`).toContain(name);
    }
    expect(tableText).toContain(CLASSES[0]);
    await page.close();
  }, 180_000);
});
