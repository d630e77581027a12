const fs = require("fs");
const os = require("os");
const path = require("path");

/** One staging folder for the build contexts of the whole run, removed by global-teardown.js. */
module.exports = async () => {
  process.env.WEEK_STAGING_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "week-jest-contexts-"));
};
