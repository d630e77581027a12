/**
 * The configuration reference (docs/configuration.md), rendered from the JSON Schema that is
 * itself generated from the zod schema: every field with its type, default, example and
 * meaning. `npm run schema` writes it beside week.config.schema.json; a test keeps it in step.
 */
import * as fs from "fs";
import * as path from "path";

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  const?: unknown;
  properties?: Record<string, Schema>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  examples?: unknown[];
};

export interface Field {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly example: string;
  readonly description: string;
}

/**
 * Examples for fields that have neither a default nor a value in week.config.example.json
 * (a field can also carry its own: zod's `.meta({ examples: [...] })`).
 */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  "heroku.streamlitAppName": "ada-week-ui",
  "model.data": "labeled_data.csv",
  "model.labelNames": { "0": "hate_speech", "1": "offensive_language", "2": "neither" },
  "classroom.roster": "roster.csv",
  "classroom.courseData": "course-data",
  "classroom.proxy.tlsCertificate": "certs/lab.example.org.pem",
  "classroom.proxy.tlsKey": "certs/lab.example.org-key.pem",
  "classroom.kubernetes.registry": "registry.example.org/m2iot",
  "classroom.kubernetes.context": "lab-cluster",
  "classroom.kubernetes.host": "lab.example.org",
  "classroom.kubernetes.tlsSecret": "lab-example-org-tls",
};

/** Sibling fields an example needs to be a valid configuration on its own (labelNames describe a data file). */
const EXAMPLE_SIBLINGS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  "model.labelNames": { data: "labeled_data.csv", textColumn: "tweet", labelColumn: "class" },
  // a certificate goes with its key
  "classroom.proxy.tlsCertificate": { tlsKey: "certs/lab.example.org-key.pem" },
  "classroom.proxy.tlsKey": { tlsCertificate: "certs/lab.example.org.pem" },
  // every setting of the cluster needs the registry its images go to
  ...Object.fromEntries(
    ["kubeconfig", "context", "ingressClassName", "ingressControllerNamespace", "host", "tlsSecret", "volumeGiB"].map((f) => [`classroom.kubernetes.${f}`, { registry: "registry.example.org/m2iot" }]),
  ),
};

const EXAMPLE_FILE = path.join(__dirname, "..", "week.config.example.json");

function exampleValues(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (value: unknown, prefix: string) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) if (k !== "$schema") walk(v, prefix === "" ? k : `${prefix}.${k}`);
    } else out[prefix] = value;
  };
  if (fs.existsSync(EXAMPLE_FILE)) walk(JSON.parse(fs.readFileSync(EXAMPLE_FILE, "utf8")), "");
  return out;
}

function typeOf(s: Schema): string {
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives !== undefined) return alternatives.map(typeOf).join(" or ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum !== undefined) return `one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`;
  const base = Array.isArray(s.type) ? s.type.join(" or ") : (s.type ?? "any");
  const limits: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) limits.push(`${s.minimum ?? "…"}–${s.maximum ?? "…"}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) limits.push(`${s.minLength ?? 0}–${s.maxLength ?? "…"} characters`);
  if (s.format === "email") limits.push("an e-mail address");
  else if (s.pattern !== undefined) limits.push(s.pattern.length <= 40 ? `pattern \`${s.pattern}\`` : "pattern: see week.config.schema.json");
  return limits.length > 0 ? `${base} (${limits.join(", ")})` : base;
}

const DEFAULT_NOTE = /\s*@default\s+(.*)$/s;

function describe(s: Schema): { text: string; defaultNote?: string } {
  const raw = (s.description ?? "").trim();
  const m = DEFAULT_NOTE.exec(raw);
  return m === null ? { text: raw } : { text: raw.slice(0, m.index).trim(), defaultNote: m[1].replace(/^-\s*/, "").trim() };
}

function exampleFor(fieldPath: string, s: Schema, examples: Record<string, unknown>): unknown {
  if (fieldPath in examples) return examples[fieldPath];
  if (s.examples !== undefined && s.examples.length > 0) return s.examples[0];
  if (fieldPath in EXAMPLES) return EXAMPLES[fieldPath];
  const alternatives = s.enum ?? (s.anyOf ?? s.oneOf)?.flatMap((a) => a.enum ?? (a.const !== undefined ? [a.const] : []));
  const other = alternatives?.find((v) => JSON.stringify(v) !== JSON.stringify(s.default));
  if (other !== undefined) return other;
  if (s.type === "boolean" && typeof s.default === "boolean") return !s.default;
  return s.default;
}

/** The smallest configuration that sets `fieldPath` to `example` (with the siblings it needs). */
function exampleConfig(fieldPath: string, example: unknown): unknown {
  const keys = fieldPath.split(".");
  const leaf = keys[keys.length - 1];
  const innermost = { ...(EXAMPLE_SIBLINGS[fieldPath] ?? {}), [leaf]: example };
  return keys.slice(0, -1).reduceRight<unknown>((value, key) => ({ [key]: value }), innermost);
}

/** Every leaf field of the schema, in schema order. */
export function fieldsOf(schema: Schema): Field[] {
  const examples = exampleValues();
  const out: Field[] = [];
  const walk = (node: Schema, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key === "$schema") continue;
      const fieldPath = prefix === "" ? key : `${prefix}.${key}`;
      if (child.properties !== undefined) {
        walk(child, fieldPath);
        continue;
      }
      const { text, defaultNote } = describe(child);
      const example = exampleFor(fieldPath, child, examples);
      out.push({
        path: fieldPath,
        type: typeOf(child),
        default: child.default !== undefined ? `\`${JSON.stringify(child.default)}\`` : (defaultNote ?? "none"),
        example: example === undefined ? "" : `\`${JSON.stringify(exampleConfig(fieldPath, example))}\``,
        description: text,
      });
    }
  };
  walk(schema, "");
  return out;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

/** docs/configuration.md. */
export function configurationReference(schema: Schema): string {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated by `npm run schema` from config/schema.ts (through week.config.schema.json): do not edit by hand. -->",
    "",
    "`week.config.json` at the project root, or the file `WEEK_CONFIG` names. Every field is optional:",
    "an empty or missing file means every default. Unknown fields are refused, with the field named.",
    "Editors complete and check the file with `\"$schema\": \"./week.config.schema.json\"`.",
    "",
  ];
  const sections = new Map<string, Field[]>();
  for (const f of fieldsOf(schema)) {
    const section = f.path.includes(".") ? f.path.split(".")[0] : "(top level)";
    sections.set(section, [...(sections.get(section) ?? []), f]);
  }
  for (const [section, fields] of sections) {
    lines.push(`## \`${section}\``, "");
    const intro = schema.properties?.[section]?.description;
    if (intro !== undefined) lines.push(describe(schema.properties![section]).text, "");
    lines.push("| field | type | default | example | meaning |", "| --- | --- | --- | --- | --- |");
    for (const f of fields) lines.push(`| \`${f.path}\` | ${cell(f.type)} | ${cell(f.default)} | ${cell(f.example)} | ${cell(f.description)} |`);
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
