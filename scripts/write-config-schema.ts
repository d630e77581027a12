/** Writes week.config.schema.json from the zod schema: `npm run schema`. */
import * as fs from "fs";
import * as path from "path";
import { weekConfigJsonSchema } from "../config/json-schema";

const target = path.join(__dirname, "..", "week.config.schema.json");
fs.writeFileSync(target, `${JSON.stringify(weekConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), target)}`);
