/** TP4: the deployed API (Heroku, Cloud Run) answers `/` and `/predict`; its image is under the course's 500 MB when named. */
import { run } from "./exec";
import { excerpt, join, request } from "./http";
import { oneLine, resultsOf, type TpCheck } from "./types";

/** The course's limit for the deployed image (Heroku's slug/image advice). */
export const IMAGE_LIMIT_MB = 500;

export const tp4: TpCheck = async (target, options) => {
  const { out, add } = resultsOf(target.student);
  if (target.apiUrl === undefined) {
    add("hello", "error", "no deployed URL for this student (api_url in the roster, or --url)");
    return out;
  }
  const base = target.apiUrl;
  try {
    const hello = await request("GET", join(base, "/"), options);
    if (hello.status === 200) add("hello", "pass", `GET / answered 200: ${excerpt(hello.text)}`);
    else add("hello", "fail", `GET / answered ${hello.status}: ${excerpt(hello.text)}`);
  } catch (error) {
    add("hello", "error", oneLine(error));
  }
  try {
    const predicted = await request("POST", join(base, "/predict"), options, { body: { text: "The home team won the final after a tense match on Sunday." } });
    const body = predicted.json<{ label?: unknown; probabilities?: Record<string, unknown> }>();
    if (predicted.status !== 200) add("predict", "fail", `POST /predict answered ${predicted.status}: ${excerpt(predicted.text)}`);
    else if (typeof body?.label !== "string") add("predict", "fail", `POST /predict answered without a label: ${excerpt(predicted.text)}`);
    else add("predict", "pass", `POST /predict: ${body.label}`);
  } catch (error) {
    add("predict", "error", oneLine(error));
  }
  if (target.image !== undefined) {
    try {
      const inspected = await run(["docker", "image", "inspect", "--format", "{{.Size}}", target.image], options);
      const bytes = Number(inspected.stdout.trim());
      if (inspected.code !== 0 || !Number.isFinite(bytes)) add("image size", "error", `docker image inspect ${target.image}: ${inspected.stderr.trim().split("\n")[0]}`);
      else {
        const mb = bytes / 1e6;
        add("image size", mb <= IMAGE_LIMIT_MB ? "pass" : "fail", `${target.image}: ${mb.toFixed(0)} MB (the course's limit: ${IMAGE_LIMIT_MB} MB)`);
      }
    } catch (error) {
      add("image size", "error", oneLine(error));
    }
  }
  return out;
};
