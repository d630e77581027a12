/**
 * TP2: the Streamlit app answers (`/_stcore/health`) and classifies a text, in a real browser
 * (Debian's chromium driven by playwright-core, as the browser test does): type a text, press
 * Classify, read "Most likely class: ...".
 */
import * as fs from "fs";
import { chromium } from "playwright-core";
import { excerpt, join, request } from "./http";
import { oneLine, resultsOf, type TpCheck } from "./types";

const CHROMIUM = (): string => process.env.CHROMIUM ?? "/usr/bin/chromium";

export const tp2: TpCheck = async (target, options) => {
  const { out, add } = resultsOf(target.student);
  if (target.streamlitUrl === undefined) {
    add("streamlit answers", "error", "no Streamlit URL for this student (--url, or the classroom's proxy)");
    return out;
  }
  try {
    const health = await request("GET", join(target.streamlitUrl, "/_stcore/health"), options);
    if (health.status !== 200) {
      add("streamlit answers", "fail", `GET /_stcore/health answered ${health.status}: ${excerpt(health.text)}`);
      return out;
    }
    add("streamlit answers", "pass", "GET /_stcore/health answered 200");
  } catch (error) {
    add("streamlit answers", "error", oneLine(error));
    return out;
  }
  if (!fs.existsSync(CHROMIUM())) {
    add("classifies a text", "error", `no chromium at ${CHROMIUM()} to drive the app (apt-get install chromium, or CHROMIUM=path)`);
    return out;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM(), headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  const abort = () => void browser.close();
  options.signal.addEventListener("abort", abort);
  let step = "opening the page";
  try {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const ms = options.requestTimeoutS * 3 * 1000; // a cold Streamlit page renders slowly on a busy server
    await page.goto(target.streamlitUrl, { timeout: ms });
    const box = page.getByLabel("Text to classify");
    const alert = page.locator('[data-testid="stAlert"], [data-testid="stException"]');
    step = "waiting for the text box";
    await Promise.race([box.waitFor({ timeout: ms }), alert.first().waitFor({ timeout: ms })]);
    if (!(await box.isVisible())) {
      add("classifies a text", "fail", `no "Text to classify" box; the app shows: ${excerpt(await alert.first().innerText())}`);
      return out;
    }
    const before = await alert.count();
    await box.fill("The home team won the final after a tense match on Sunday.");
    await page.getByRole("button", { name: "Classify" }).click();
    const verdict = page.getByText("Most likely class:");
    step = "waiting for the class after Classify";
    await Promise.race([verdict.waitFor({ timeout: ms }), alert.nth(before).waitFor({ timeout: ms })]);
    if (await verdict.isVisible()) add("classifies a text", "pass", (await verdict.innerText()).trim());
    else add("classifies a text", "fail", `the app shows: ${excerpt(await alert.nth(before).innerText())}`);
  } catch (error) {
    add("classifies a text", options.signal.aborted ? "error" : "fail", `no class shown: ${step}: ${oneLine(error)}`);
  } finally {
    options.signal.removeEventListener("abort", abort);
    await browser.close().catch(() => undefined);
  }
  return out;
};
