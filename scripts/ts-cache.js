/**
 * `node -r ./scripts/ts-cache.js main.ts`: run the TypeScript app as plain JavaScript, each
 * file transpiled once by swc (no type checking: that is `npm run typecheck`) and kept in a
 * content-addressed cache, so that a synth whose sources did not change loads only cached
 * JavaScript: no compiler, no source-map hooks.
 *
 * Why: `node -r @swc-node/register` recompiles every file on every run and installs
 * source-map-support, whose stack-trace hook runs each time cdktf captures a stack trace for a
 * token (hundreds per synth); that was half of the synth's CPU time.
 * Kept after a look at the maintained loaders (issue 18): CPU time of a synth, median of 5 runs
 * alternated side by side, 0.81 s with this cache (0.93 s with it cold) against 1.12 s for
 * @swc-node/register 1.12.1 with its own cache and SWC_NODE_SOURCE_MAP_MODE=none (it loads
 * typescript to read tsconfig), 1.51 s for it as configured by default, 1.65 s for tsx 4.23.15.
 *
 * The cache key is the file's content with the swc version and options, so an edit, a
 * checkout or an upgrade invalidates exactly what changed. Cache folder: WEEK_TS_CACHE_DIR, or
 * node_modules/.cache/week-ts (removed freely; cleared when it holds over 2,000 files).
 * Stack traces point at the transpiled lines (the code keeps its shape, types removed).
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE_DIR = process.env.WEEK_TS_CACHE_DIR || path.join(__dirname, "..", "node_modules", ".cache", "week-ts");
const MAX_ENTRIES = 2000;
const SWC_OPTIONS = {
  jsc: { parser: { syntax: "typescript" }, target: "es2022" },
  module: { type: "commonjs" },
  sourceMaps: false,
  swcrc: false,
  configFile: false,
};

let swc; // loaded only on a cache miss: its native binding costs ~50 ms to open
let keyPrefix;

function prefix() {
  if (keyPrefix === undefined) {
    const swcVersion = JSON.parse(fs.readFileSync(require.resolve("@swc/core/package.json"), "utf8")).version;
    keyPrefix = `${swcVersion}\0${JSON.stringify(SWC_OPTIONS)}\0`;
  }
  return keyPrefix;
}

function transpile(source, filename) {
  const key = crypto.createHash("sha256").update(prefix()).update(source).digest("hex");
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // miss: compile below
  }
  swc ??= require("@swc/core");
  const { code } = swc.transformSync(source, { ...SWC_OPTIONS, filename });
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    if (fs.readdirSync(CACHE_DIR).length > MAX_ENTRIES) {
      for (const name of fs.readdirSync(CACHE_DIR)) fs.rmSync(path.join(CACHE_DIR, name), { force: true });
    }
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached); // atomic: a concurrent run reads the whole file or none
  } catch {
    // a read-only tree still runs, uncached
  }
  return code;
}

require.extensions[".ts"] = function loadTypeScript(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};

module.exports = { transpile, CACHE_DIR };
