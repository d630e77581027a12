/** Writes week.config.schema.json and docs/configuration.md from the zod schema: `npm run schema`. */
import * as fs from "fs";
import * as path from "path";
import { weekConfigJsonSchema } from "../config/json-schema";
import { configurationReference } from "../config/reference";

const root = path.join(__dirname, "..");
const schema = weekConfigJsonSchema();
const targets: [string, string][] = [
  [path.join(root, "week.config.schema.json"), `${JSON.stringify(schema, null, 2)}\n`],
  [path.join(root, "docs", "configuration.md"), configurationReference(schema)],
];
for (const [file, text] of targets) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
