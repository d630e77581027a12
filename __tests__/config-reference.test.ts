import * as fs from "fs";
import * as path from "path";
import { weekConfigJsonSchema } from "../config/json-schema";
import { configurationReference, fieldsOf } from "../config/reference";
import { parseWeekConfig } from "../config/load";

const committed = fs.readFileSync(path.join(__dirname, "..", "docs", "configuration.md"), "utf8");

describe("docs/configuration.md, the configuration reference", () => {
  it("is what npm run schema writes from the current schema (regenerate with npm run schema)", () => {
    expect(committed).toBe(configurationReference(weekConfigJsonSchema()));
  });

  const fields = fieldsOf(weekConfigJsonSchema());
  it("documents every field of the configuration with its default", () => {
    const defaults = parseWeekConfig({}) as unknown as Record<string, unknown>;
    // every setting, nested groups (classroom.proxy) walked down to their own settings
    const leavesOf = (value: unknown, at: string): string[] =>
      value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0
        ? Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leavesOf(v, at === "" ? k : `${at}.${k}`))
        : [at];
    const leaves = Object.entries(defaults).flatMap(([section, v]) => leavesOf(v, section));
    expect(fields.map((f) => f.path)).toEqual(expect.arrayContaining(leaves));
    for (const f of fields) expect(committed).toContain(`| \`${f.path}\` |`);
  });

  it.each(fields.map((f) => [f.path, f] as const))("gives %s an example that the configuration accepts", (fieldPath, f) => {
    expect(f.example).not.toBe("");
    const example = JSON.parse(f.example.slice(1, -1));
    expect(() => parseWeekConfig(example, `example of ${fieldPath}`)).not.toThrow();
  });
});
