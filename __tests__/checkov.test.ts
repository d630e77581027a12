import * as fs from "fs";
import * as path from "path";
import { RULE_IDS } from "../policies/rule-ids";
import { failuresOf, readLacks, readTable, stale, unlisted } from "../tools/checkov/compare";

const ROOT = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("checkov beside the policy pack", () => {
  const table = readTable(readme);

  it("reads the README's table: each row a check, a target, a verdict and a reason", () => {
    expect(table.length).toBeGreaterThan(0);
    for (const row of table) {
      expect(row.checkId).toMatch(/^CKV2?_[A-Z]+_\d+$/);
      expect(row.target).not.toBe("");
      expect(row.verdict).toMatch(/^(fixed|matched( in part)? by WEEK-[A-Z]+-\d{3}|does not apply)$/);
      expect(row.reason.length).toBeGreaterThan(10);
    }
  });

  it("fails on a failure the table does not list, and on a listed check on another target", () => {
    const report = {
      results: {
        failed_checks: [
          { check_id: "CKV_GCP_84", file_abs_path: "/tmp/x/gcp/cdk.tf.json", resource: "r", check_name: "n" },
          { check_id: "CKV_GCP_999", file_abs_path: "/tmp/x/gcp/cdk.tf.json", resource: "r", check_name: "new" },
          { check_id: "CKV_GCP_84", file_abs_path: "/tmp/x/local/cdk.tf.json", resource: "r", check_name: "n" },
        ],
      },
    };
    const failures = failuresOf([report], (file) => path.basename(path.dirname(file)));
    expect(unlisted(failures, table).map((f) => [f.checkId, f.target])).toEqual([
      ["CKV_GCP_999", "gcp"],
      ["CKV_GCP_84", "local"],
    ]);
  });

  it("reports rows that match no failure any more", () => {
    expect(stale([], [{ checkId: "CKV_X_1", target: "gcp", verdict: "does not apply", reason: "a reason long enough" }])).toHaveLength(1);
  });

  it("names every WEEK rule with what checkov has for it", () => {
    expect(readLacks(readme).map((r) => r.ruleId).sort()).toEqual(Object.values(RULE_IDS).sort());
  });

  it("pins checkov in a hash lock whose header says how it was made", () => {
    const lock = fs.readFileSync(path.join(ROOT, "tools/checkov/requirements.lock"), "utf8");
    expect(lock).toMatch(/uv pip compile --generate-hashes/);
    expect(lock).toMatch(/^checkov==3\.3\.30 \\$/m);
    expect(lock).toMatch(/--hash=sha256:[a-f0-9]{64}/);
  });
});
