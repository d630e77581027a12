const fs = require("fs");

module.exports = async () => {
  if (process.env.WEEK_STAGING_DIR) fs.rmSync(process.env.WEEK_STAGING_DIR, { recursive: true, force: true });
};
