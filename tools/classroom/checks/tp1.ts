/**
 * TP1: the sandbox answers with its token (and refuses without it), and has python3, pip3, vim,
 * git and the workspace folder. Jupyter is asked over its REST API; the tools are looked for in
 * the container with `docker exec` when it is local (a remote sandbox gets an `error` saying so).
 */
import { run } from "./exec";
import { join, request } from "./http";
import { oneLine, resultsOf, type TpCheck } from "./types";

/** What TP1 asks to find in the sandbox. */
export const TP1_TOOLS = ["python3", "pip3", "vim", "git"];

export const tp1: TpCheck = async (target, options) => {
  const { out, add } = resultsOf(target.student);
  if (target.sandboxUrl === undefined) add("jupyter token", "error", "no sandbox URL for this student (--url, or the classroom's proxy)");
  else if (target.token === undefined) add("jupyter token", "error", "no Jupyter token for this student (--token, or JUPYTER_TOKEN in the sandbox's container)");
  else {
    try {
      const withToken = await request("GET", join(target.sandboxUrl, "/api/status"), options, { headers: { authorization: `token ${target.token}` } });
      const without = await request("GET", join(target.sandboxUrl, "/api/status"), options);
      if (withToken.status !== 200) add("jupyter token", "fail", `GET /api/status with the token answered ${withToken.status}`);
      else if (without.status === 200) add("jupyter token", "fail", "Jupyter answers without a token (anyone on the network can run code)");
      else add("jupyter token", "pass", `Jupyter answers with the token (200) and refuses without it (${without.status})`);
    } catch (error) {
      add("jupyter token", "error", oneLine(error));
    }
  }
  if (target.sandboxContainer === undefined) {
    add("tools and workspace", "error", "no local sandbox container to look inside (docker exec); pass --container");
    return out;
  }
  try {
    const script = `for t in ${TP1_TOOLS.join(" ")}; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done; [ -d "$HOME/workspace" ] || [ -d "\${WORKSPACE:-/nonexistent}" ] || echo workspace`;
    const ran = await run(["sh", "-c", script], options, { container: target.sandboxContainer });
    const missing = ran.stdout.split("\n").filter((l) => l.trim() !== "");
    if (ran.code !== 0) add("tools and workspace", "error", `docker exec ${target.sandboxContainer}: ${ran.stderr.trim().split("\n")[0]}`);
    else if (missing.length > 0) add("tools and workspace", "fail", `missing: ${missing.join(", ")}`);
    else add("tools and workspace", "pass", `${TP1_TOOLS.join(", ")} and the workspace folder are there`);
  } catch (error) {
    add("tools and workspace", "error", oneLine(error));
  }
  return out;
};
