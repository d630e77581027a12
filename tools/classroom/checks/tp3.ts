/** TP3: the course's smoke test, lambdas-src/api/test/test_api.sh, against the student's API. */
import * as path from "path";
import { lastLine, run } from "./exec";
import { oneLine, resultsOf, type CheckStatus, type TpCheck } from "./types";

export const tp3: TpCheck = async (target, options) => {
  const check = "test_api.sh";
  const result = (status: CheckStatus, detail: string) => {
    const { out, add } = resultsOf(target.student);
    add(check, status, detail);
    return out;
  };
  if (target.apiUrl === undefined) return result("error", "no API URL for this student (api_url in the roster, or --url)");
  const script = path.join(options.root, "lambdas-src", "api", "test", "test_api.sh");
  try {
    const ran = await run(["bash", script, target.apiUrl], options, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TIMEOUT: String(options.requestTimeoutS), CURL_CA_BUNDLE: options.caFile ?? process.env.CURL_CA_BUNDLE },
      timeoutS: options.requestTimeoutS * 20,
    });
    if (ran.code === 0) return result("pass", lastLine(ran.stdout));
    const why = ran.stderr.split("\n").find((l) => l.startsWith("FAIL: ")) ?? lastLine(ran.stderr);
    const passed = ran.stdout.split("\n").filter((l) => l.startsWith("ok: ")).length;
    // no HTTP answer at all: the check could not reach the API (error); anything else is the API's answer (fail)
    return result(/: no HTTP answer from /.test(why) ? "error" : "fail", `${why.replace(/^FAIL: /, "")} (after ${passed} checks passed)`);
  } catch (error) {
    return result("error", oneLine(error));
  }
};
