/**
 * The schema of `week.config.json`: one file describes the whole week.
 *
 * Every field has a default, so an empty or missing file works. The JSON Schema that
 * editors use (`week.config.schema.json`) is generated from this one (`npm run schema`)
 * and a test keeps the two in step.
 */
import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import { isPinnedReference } from "../policies/image-ref";
import { gitRepositoryUrlProblem, maskUrl, unsafeNameProblem } from "./names";
import {
  CLOUD_SQL_ENTERPRISE_TIER,
  GCP_PROJECT_ID_PATTERN,
  GCP_REGION,
  HEROKU_DYNO_SIZES,
  HEROKU_POSTGRES_PLAN,
  HEROKU_REGIONS,
  herokuAppNamePattern,
} from "./platforms";

const PORT = "must be a whole number between 1 and 65535";

const hostPort = (fallback: number) =>
  z
    .number({ error: PORT })
    .int({ error: PORT })
    .min(1, { error: PORT })
    .max(65535, { error: PORT })
    .default(fallback)
    .describe(`Port on the host. @default ${fallback}`);

const memoryMiB = (fallback: number, min: number, max: number) =>
  z
    .number({ error: `must be a whole number of MiB between ${min} and ${max}` })
    .int({ error: `must be a whole number of MiB between ${min} and ${max}` })
    .min(min, { error: `must be a whole number of MiB between ${min} and ${max}` })
    .max(max, { error: `must be a whole number of MiB between ${min} and ${max}` })
    .default(fallback)
    .describe(`Memory limit in MiB. @default ${fallback}`);

/** `name:tag` or `name@sha256:...`, never `latest` and never untagged. */
const pinnedImage = (fallback: string) =>
  z
    .string({ error: "must be an image reference such as postgres:17.6-bookworm" })
    .regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/, {
      error: "must be an image reference such as postgres:17.6-bookworm",
    })
    .refine((ref) => /@sha256:/.test(ref) || /:[^/]+$/.test(ref), {
      error: "must be pinned to a tag or a digest",
    })
    .refine((ref) => !/:latest$/.test(ref), { error: "must not use the tag latest" })
    .refine((ref) => /:latest$/.test(ref) || !(/@sha256:/.test(ref) || /:[^/]+$/.test(ref)) || isPinnedReference(ref), {
      error: "must be pinned to a full release (major.minor at least, such as 17.6-bookworm) or a digest, not a major version or a channel",
    })
    .default(fallback)
    .describe(`Pinned image reference (a tag other than latest, or a digest). @default ${fallback}`);

/** A name Postgres and the official image accept without quoting. */
const sqlName = (fallback: string) =>
  z
    .string({ error: "must be a lowercase SQL name (letters, digits, underscores; 1-63 characters)" })
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
      error: "must be a lowercase SQL name (letters, digits, underscores; 1-63 characters)",
    })
    .default(fallback);

/** A git remote the sandbox can clone; credentials never go in the URL, and errors show it masked. */
const gitRepositoryUrl = z
  .string({ error: "must be an https://, ssh://, git@host:path or file:// URL" })
  .superRefine((url, ctx) => {
    const problem = gitRepositoryUrlProblem(url);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: maskUrl(url) });
  })
  // For editors: the schemes accepted (the full check, credentials and options included, is above).
  .meta({ pattern: "^(https://|ssh://|file://|git@[^:\\s]+:)\\S+$" })
  .describe("Repository cloned into the workspace when the sandbox starts. @default - nothing is cloned");

/** Free text that reaches git or a shell (a git user name): no control or invisible characters, not option-like. */
const safeText = (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    const problem = unsafeNameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
  });

export const networkSchema = z
  .strictObject({
    name: z
      .string({ error: "must be a Docker network name (letters, digits, . _ -)" })
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, { error: "must be a Docker network name (letters, digits, . _ -)" })
      .default("week")
      .describe("Name of the private Docker network, also the prefix of container names. @default week"),
    publishOnAllInterfaces: z
      .boolean({ error: "must be true or false" })
      .default(false)
      .describe(
        "Publish host ports on every interface (0.0.0.0) instead of 127.0.0.1. The sandbox runs arbitrary code: leave it off unless the machine is on a trusted network. @default false",
      ),
  })
  .prefault({});

export const sandboxSchema = z
  .strictObject({
    hostPort: hostPort(8000),
    baseImage: pinnedImage("ubuntu:24.04"),
    user: z
      .string({ error: "must be a lowercase Linux user name" })
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: "must be a lowercase Linux user name" })
      .refine((u) => u !== "root", { error: "must not be root: the sandbox runs as a non-root user" })
      .default("student")
      .describe("Non-root user that runs Jupyter. @default student"),
    gitUserName: safeText(z.string({ error: "must be a non-empty name" }))
      .refine((n) => !/[\n\r<>]/.test(n), { error: "must not contain line breaks or angle brackets" })
      .trim()
      .min(1, { error: "must not be empty" })
      .max(200, { error: "must be at most 200 characters" })
      .default("Week Student")
      .describe("git user.name in the sandbox. @default Week Student"),
    gitUserEmail: z
      .email({ error: "must be an e-mail address such as student@example.com" })
      .superRefine((value, ctx) => {
        const problem = unsafeNameProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
      })
      .default("student@example.com")
      .describe("git user.email in the sandbox. @default student@example.com"),
    gitRepositoryUrl: gitRepositoryUrl.optional(),
    memoryMiB: memoryMiB(4096, 512, 65536),
    extraPorts: z
      .array(
        z.strictObject({
          containerPort: z
            .number({ error: PORT })
            .int({ error: PORT })
            .min(1, { error: PORT })
            .max(65535, { error: PORT })
            .describe("Port an app listens on inside the sandbox (Streamlit 8501, uvicorn 8080...)."),
          hostPort: z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT }).describe("Port on the host."),
        }),
        { error: "must be a list of {containerPort, hostPort}" },
      )
      .max(10, { error: "must hold at most 10 ports" })
      .refine((ports) => ports.every((p) => p.containerPort !== 8000), { error: "must not use containerPort 8000, Jupyter's" })
      .refine((ports) => new Set(ports.map((p) => p.containerPort)).size === ports.length, { error: "must not list a containerPort twice" })
      .default([])
      .describe(
        "More sandbox ports published on the host (127.0.0.1 unless network.publishOnAllInterfaces), for the apps students run in the sandbox, e.g. [{\"containerPort\": 8501, \"hostPort\": 8502}]. @default []",
      ),
  })
  .prefault({});

export const databaseSchema = z
  .strictObject({
    hostPort: hostPort(5432),
    image: pinnedImage("postgres:17.6-bookworm"),
    user: sqlName("week").describe("POSTGRES_USER written to a new database.env. @default week"),
    database: sqlName("week").describe("POSTGRES_DB written to a new database.env. @default week"),
    memoryMiB: memoryMiB(512, 128, 16384),
    protectVolume: z
      .boolean({ error: "must be true or false" })
      .default(true)
      .describe(
        "Refuse to destroy the database-data and notebook volumes (Terraform prevent_destroy). Set to false only to tear the week down for good. @default true",
      ),
  })
  .prefault({});

export const apiSchema = z
  .strictObject({
    hostPort: hostPort(8080),
    memoryMiB: memoryMiB(512, 128, 8192),
  })
  .prefault({});

const COLUMN = "must be a CSV column name (1-100 characters, no line break)";
// Column names, label names and the data path reach the training command's argv (ml/train.args).
const csvColumn = (fallback: string) =>
  safeText(
    z
      .string({ error: COLUMN })
      .min(1, { error: COLUMN })
      .max(100, { error: COLUMN })
      .refine((c) => !/[\r\n]/.test(c), { error: COLUMN }),
  ).default(fallback);
const LABEL = "must be 1-100 characters without a comma, an equals sign or a line break";
const labelPart = safeText(
  z
    .string({ error: LABEL })
    .min(1, { error: LABEL })
    .max(100, { error: LABEL })
    .refine((v) => !/[,=\r\n]/.test(v), { error: LABEL }),
);

/** What the API (and so Streamlit) serves: the data its image trains on, and how. */
export const modelSchema = z
  .strictObject({
    data: safeText(
      z
        .string({ error: "must be the path of a CSV file" })
        .min(1, { error: "must be the path of a CSV file" })
        .refine((p) => !/[\r\n]/.test(p), { error: "must be the path of a CSV file" }),
    )
      .optional()
      .describe(
        "CSV the API image trains on (relative to the working directory of synth), e.g. the course's labeled_data.csv; copied into the build context at synth, never committed. @default - the shipped sample (lambdas-src/api/ml/data/sample.csv)",
      ),
    dataRoots: z
      .array(
        safeText(
          z
            .string({ error: "must be a folder path" })
            .min(1, { error: "must be a folder path" })
            .refine((p) => !/[\r\n]/.test(p), { error: "must be a folder path" }),
        ),
        { error: "must be a list of folder paths" },
      )
      .max(10, { error: "must name at most 10 folders" })
      .default([])
      .describe(
        "Folders besides the project's (relative to the working directory of synth) where model.data may be, e.g. [\"../data\"] for the course's data set; a file anywhere else is refused, so that a path like /proc/self/environ never reaches an image. @default - the project folder only",
      ),
    maxDataMiB: z
      .number({ error: "must be a number of MiB between 1 and 1024" })
      .min(1, { error: "must be a number of MiB between 1 and 1024" })
      .max(1024, { error: "must be a number of MiB between 1 and 1024" })
      .default(64)
      .describe(
        "Largest model.data file: it is copied into every API build context (and uploaded to Heroku as source). The course's 24,783 tweets are 2.4 MiB; 64 MiB leaves room for 25 times more and keeps a synth, an upload and a fast training in seconds. @default 64",
      ),
    textColumn: csvColumn("text").describe("Column holding the texts (tweet for the course's file). @default text"),
    labelColumn: csvColumn("label").describe("Column holding the labels (class for the course's file). @default label"),
    labelNames: z
      .record(labelPart, labelPart, { error: "must map label values to class names, e.g. {\"0\": \"hate_speech\"}" })
      .optional()
      .describe("Class names for the label column's values, e.g. {\"0\": \"hate_speech\", \"1\": \"offensive_language\", \"2\": \"neither\"}. @default - the values are the class names"),
    algorithm: z
      .enum(["course", "fast"], { error: "must be course or fast" })
      .optional()
      .describe(
        "course: TP2's OneVsRest(SVC(linear, probability=True)), minutes on 25k rows; fast: calibrated LinearSVC, seconds. @default - course on the sample, fast on a data file",
      ),
    classWeight: z
      .enum(["none", "balanced"], { error: "must be none or balanced" })
      .default("none")
      .describe("balanced weighs each class by the inverse of its frequency: more hate speech recall, less precision. @default none"),
  })
  .superRefine((m, ctx) => {
    const names = Object.values(m.labelNames ?? {});
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      ctx.addIssue({ code: "custom", path: ["labelNames"], input: m.labelNames, message: `gives the class name ${JSON.stringify(twice)} to two values` });
    }
    if (m.data === undefined && (m.textColumn !== "text" || m.labelColumn !== "label" || m.labelNames !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["data"], input: m.data, message: "is needed when textColumn, labelColumn or labelNames are set (they describe that file)" });
    }
  })
  .prefault({});

export const streamlitSchema = z
  .strictObject({
    enabled: z.boolean({ error: "must be true or false" }).default(true).describe("Run the Streamlit app. @default true"),
    hostPort: hostPort(8501),
    memoryMiB: memoryMiB(512, 128, 8192),
  })
  .prefault({});

const HEROKU_APP_NAME =
  "must be 3 to 30 characters: lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit";
const herokuAppName = z
  .string({ error: HEROKU_APP_NAME })
  .regex(new RegExp(herokuAppNamePattern()), { error: HEROKU_APP_NAME });

const HEROKU_POSTGRES_PLAN_MESSAGE =
  "must be a current Heroku Postgres plan such as heroku-postgresql:essential-0 (the free hobby plans are gone)";

export const herokuSchema = z
  .strictObject({
    appName: herokuAppName
      .optional()
      .describe("Name of the API app (globally unique on Heroku). @default - asked at deploy time (TF_VAR_heroku_app_name)"),
    region: z
      .enum(HEROKU_REGIONS, { error: "must be us or eu (the Common Runtime regions)" })
      .default("eu")
      .describe("Common Runtime region. @default eu"),
    postgresPlan: z
      .string({ error: HEROKU_POSTGRES_PLAN_MESSAGE })
      .regex(HEROKU_POSTGRES_PLAN, {
        error: HEROKU_POSTGRES_PLAN_MESSAGE,
      })
      .default("heroku-postgresql:essential-0")
      .describe("Heroku Postgres add-on plan. @default heroku-postgresql:essential-0"),
    dynoSize: z
      .enum(HEROKU_DYNO_SIZES, {
        error: `must be one of ${HEROKU_DYNO_SIZES.join(", ")}`,
      })
      .default("basic")
      .describe("Dyno size of the web process. @default basic"),
    dynoQuantity: z
      .number({ error: "must be a whole number between 0 and 10" })
      .int({ error: "must be a whole number between 0 and 10" })
      .min(0, { error: "must be a whole number between 0 and 10" })
      .max(10, { error: "must be a whole number between 0 and 10" })
      .default(1)
      .describe("Number of web dynos. @default 1"),
    streamlit: z.boolean({ error: "must be true or false" }).default(false).describe("Deploy the Streamlit app as a second app. @default false"),
    streamlitAppName: herokuAppName
      .optional()
      .describe("Name of the Streamlit app. @default - the API app name followed by -ui"),
  })
  .superRefine((h, ctx) => {
    if (h.streamlit && h.streamlitAppName === undefined && h.appName !== undefined && h.appName.length > 27) {
      ctx.addIssue({
        code: "custom",
        path: ["appName"],
        input: h.appName,
        message: "is too long to name the Streamlit app after it (27 characters at most); set heroku.streamlitAppName",
      });
    }
    if (h.streamlitAppName !== undefined && h.streamlitAppName === h.appName) {
      ctx.addIssue({ code: "custom", path: ["streamlitAppName"], input: h.streamlitAppName, message: "must differ from heroku.appName" });
    }
  })
  .prefault({});

const GCP_PROJECT = "must be a Google Cloud project id: 6 to 30 lowercase letters, digits or dashes, starting with a letter";
const CPU = "must be 1, 2, 4 or 8";

export const gcpSchema = z
  .strictObject({
    project: z
      .string({ error: GCP_PROJECT })
      .regex(new RegExp(GCP_PROJECT_ID_PATTERN), { error: GCP_PROJECT })
      .optional()
      .describe("Project id. @default - asked at deploy time (TF_VAR_gcp_project)"),
    region: z
      .string({ error: "must be a Google Cloud region such as europe-west1" })
      .regex(GCP_REGION, { error: "must be a Google Cloud region such as europe-west1" })
      .default("europe-west1")
      .describe("Region of Cloud Run, Artifact Registry and Cloud SQL. @default europe-west1"),
    apiMemoryMiB: memoryMiB(1024, 512, 32768),
    apiCpu: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)], { error: CPU }).default(1).describe("vCPUs per instance. @default 1"),
    minInstances: z
      .number({ error: "must be a whole number between 0 and 100" })
      .int({ error: "must be a whole number between 0 and 100" })
      .min(0, { error: "must be a whole number between 0 and 100" })
      .max(100, { error: "must be a whole number between 0 and 100" })
      .default(0)
      .describe("Minimum Cloud Run instances (0 scales to zero). @default 0"),
    maxInstances: z
      .number({ error: "must be a whole number between 1 and 100" })
      .int({ error: "must be a whole number between 1 and 100" })
      .min(1, { error: "must be a whole number between 1 and 100" })
      .max(100, { error: "must be a whole number between 1 and 100" })
      .default(2)
      .describe("Maximum Cloud Run instances. @default 2"),
    allowPublicAccess: z
      .boolean({ error: "must be true or false" })
      .default(false)
      .describe(
        "Let anyone on the internet call the Cloud Run services (allUsers gets roles/run.invoker). Off, callers need an identity token. @default false",
      ),
    streamlit: z.boolean({ error: "must be true or false" }).default(false).describe("Deploy the Streamlit app on Cloud Run too. @default false"),
    sqlTier: z
      .string({ error: "must be a Cloud SQL Enterprise tier such as db-f1-micro, db-g1-small or db-custom-1-3840" })
      .regex(CLOUD_SQL_ENTERPRISE_TIER, {
        error: "must be a Cloud SQL Enterprise tier such as db-f1-micro, db-g1-small or db-custom-1-3840",
      })
      .default("db-f1-micro")
      .describe("Cloud SQL machine tier (ENTERPRISE edition). @default db-f1-micro"),
    deletionProtection: z
      .boolean({ error: "must be true or false" })
      .default(true)
      .describe("Deletion protection on Cloud SQL and Cloud Run. Set to false, deploy, then destroy, to tear down. @default true"),
  })
  .superRefine((g, ctx) => {
    if (g.minInstances > g.maxInstances) {
      ctx.addIssue({
        code: "custom",
        path: ["minInstances"],
        input: g.minInstances,
        message: `must not exceed gcp.maxInstances (${g.maxInstances})`,
      });
    }
    // Cloud Run's pairing of memory and vCPUs (cloud.google.com/run/docs/configuring/services/memory-limits).
    const cpuForMemory = g.apiMemoryMiB > 24576 ? 8 : g.apiMemoryMiB > 16384 ? 6 : g.apiMemoryMiB > 8192 ? 4 : g.apiMemoryMiB > 4096 ? 2 : 1;
    if (g.apiCpu < cpuForMemory) {
      ctx.addIssue({
        code: "custom",
        path: ["apiMemoryMiB"],
        input: g.apiMemoryMiB,
        message: `needs gcp.apiCpu of at least ${cpuForMemory} on Cloud Run (gcp.apiCpu is ${g.apiCpu})`,
      });
    }
    const memoryForCpu = g.apiCpu >= 6 ? 4096 : g.apiCpu >= 4 ? 2048 : 512;
    if (g.apiMemoryMiB < memoryForCpu) {
      ctx.addIssue({
        code: "custom",
        path: ["apiCpu"],
        input: g.apiCpu,
        message: `needs gcp.apiMemoryMiB of at least ${memoryForCpu} on Cloud Run (gcp.apiMemoryMiB is ${g.apiMemoryMiB})`,
      });
    }
  })
  .prefault({});

const COURSE = "must be 1-20 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash";
const TIME = "must be a time of day as HH:MM (24-hour clock)";
const CLASSROOM_SERVICES = ["sandbox", "database", "api", "streamlit"] as const;

/** The proxy in front of the class: one host port, TLS, a path per student. */
export const classroomProxySchema = z
  .strictObject({
    hostPort: hostPort(8443).describe("The one host port of the class (HTTPS). @default 8443"),
    bindAddress: z
      .string({ error: "must be an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0" })
      .refine((a) => ipaddr.isValid(a) && (a.includes(":") || ipaddr.IPv4.isValidFourPartDecimal(a)), {
        error: "must be an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0",
      })
      .default("127.0.0.1")
      .describe(
        "Host address the proxy binds. Loopback by default: a lab server sets the address of its lab network (or 0.0.0.0) explicitly. Nothing else of the class is published. @default 127.0.0.1",
      ),
    tlsCertificate: safeText(z.string({ error: "must be the path of a PEM certificate" }).min(1, { error: "must be the path of a PEM certificate" }))
      .optional()
      .describe("PEM certificate (chain) of the proxy, read at apply time. @default - a self-signed certificate is generated (browsers warn; say so to the class)"),
    tlsKey: safeText(z.string({ error: "must be the path of a PEM private key" }).min(1, { error: "must be the path of a PEM private key" }))
      .optional()
      .describe("PEM private key of tlsCertificate, read at apply time. @default - generated with the self-signed certificate"),
    serverName: safeText(z.string({ error: "must be a host name" }).regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i, { error: "must be a host name" }))
      .default("localhost")
      .describe("Host name the class uses in its URLs (and the self-signed certificate's name). @default localhost"),
    image: pinnedImage("nginx:1.28.0-bookworm"),
    memoryMiB: memoryMiB(128, 32, 4096),
  })
  .superRefine((p, ctx) => {
    if ((p.tlsCertificate === undefined) !== (p.tlsKey === undefined)) {
      const missing = p.tlsCertificate === undefined ? "tlsCertificate" : "tlsKey";
      ctx.addIssue({ code: "custom", path: [missing], input: undefined, message: "must be given with the other of tlsCertificate and tlsKey" });
    }
  })
  .prefault({});

/** A DNS label (RFC 1123), as Kubernetes names namespaces, ingress classes and Secrets. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_LABEL_TEXT = "must be a DNS label: 1-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit";
const dnsLabel = () => z.string({ error: DNS_LABEL_TEXT }).regex(DNS_LABEL, { error: DNS_LABEL_TEXT });

/** The class on a Kubernetes cluster (`classroom-k8s`): what the cluster's side needs. */
export const classroomKubernetesSchema = z.strictObject({
  registry: safeText(
    z
      .string({ error: "must be an image repository prefix such as registry.example.org/course" })
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
        error: "must be an image repository prefix such as registry.example.org/course",
      }),
  ).describe(
    "Where the class's images are pushed (the teacher runs `docker login` to it first); the cluster pulls them from there by digest. Setting classroom.kubernetes adds the classroom-k8s stack.",
  ),
  kubeconfig: safeText(z.string({ error: "must be the path of a kubeconfig file" }).min(1, { error: "must be the path of a kubeconfig file" }))
    .default("~/.kube/config")
    .describe("The kubeconfig Terraform reads. @default ~/.kube/config"),
  context: safeText(z.string({ error: "must be a kubeconfig context name" }).min(1, { error: "must be a kubeconfig context name" }))
    .optional()
    .describe("The kubeconfig context. @default - the current context"),
  ingressClassName: dnsLabel().default("nginx").describe("The ingress class of the cluster's controller. @default nginx"),
  ingressControllerNamespace: dnsLabel().default("ingress-nginx").describe("Namespace of the ingress controller, which each student's network policy lets in. @default ingress-nginx"),
  host: safeText(z.string({ error: "must be a host name" }).regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { error: "must be a host name" }))
    .optional()
    .describe("Host name of the class's Ingress rules. @default - any host"),
  tlsSecret: dnsLabel()
    .optional()
    .describe(
      "TLS Secret (kubernetes.io/tls) of host, which must exist in each student's namespace. @default - TLS for host with the ingress controller's default certificate",
    ),
  volumeGiB: z
    .number({ error: "must be a whole number of GiB between 1 and 1024" })
    .int({ error: "must be a whole number of GiB between 1 and 1024" })
    .min(1, { error: "must be a whole number of GiB between 1 and 1024" })
    .max(1024, { error: "must be a whole number of GiB between 1 and 1024" })
    .default(2)
    .describe("Size of each of a student's volumes (workspace, database) in GiB. @default 2"),
});

/** The class on one server: a roster, and what each student gets. */
export const classroomSchema = z
  .strictObject({
    roster: safeText(z.string({ error: "must be the path of a CSV file" }).min(1, { error: "must be the path of a CSV file" }))
      .optional()
      .describe("Roster CSV (id,name,email[,git_user_name,git_user_email,repository_url,api_url]), relative to the working directory. Setting it adds the classroom stack. @default - no classroom stack"),
    course: z
      .string({ error: COURSE })
      .regex(/^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/, { error: COURSE })
      .default("week")
      .describe("Short name of the course, in every name and label of the class (week-alice-sandbox, label course=week). @default week"),
    memoryMiB: memoryMiB(2048, 768, 65536).describe(
      "Memory ceiling of one student's bundle in MiB: the database, the API and Streamlit get an eighth each, the sandbox the rest. @default 2048",
    ),
    cpus: z
      .number({ error: "must be a number of CPUs between 0.1 and 64" })
      .min(0.1, { error: "must be a number of CPUs between 0.1 and 64" })
      .max(64, { error: "must be a number of CPUs between 0.1 and 64" })
      .default(1)
      .describe("CPU ceiling of each of a student's containers (docker --cpus). @default 1"),
    services: z
      .array(z.enum(CLASSROOM_SERVICES, { error: `must be one of ${CLASSROOM_SERVICES.join(", ")}` }), { error: "must be a list of services" })
      .refine((s) => s.includes("sandbox") && s.includes("database"), { error: "must include sandbox and database (every student gets them)" })
      .refine((s) => !s.includes("streamlit") || s.includes("api"), { error: "must include api when it includes streamlit (the app calls the API)" })
      .refine((s) => new Set(s).size === s.length, { error: "must not list a service twice" })
      .default(["sandbox", "database"])
      .describe("What each student gets: sandbox and database always; api and streamlit on request. @default [\"sandbox\", \"database\"]"),
    courseData: safeText(z.string({ error: "must be the path of a folder" }).min(1, { error: "must be the path of a folder" }))
      .optional()
      .describe("Folder of course data mounted read-only in every sandbox at workspace/course-data. @default - none"),
    timezone: z
      .string({ error: "must be an IANA time zone such as Europe/Paris" })
      .refine((tz) => Intl.supportedValuesOf("timeZone").includes(tz) || tz === "UTC", { error: "must be an IANA time zone such as Europe/Paris" })
      .default("Europe/Paris")
      .describe("Time zone of the course's deadlines and the sandboxes' clocks. @default Europe/Paris"),
    deadlines: z
      .array(z.string({ error: TIME }).regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: TIME }), { error: "must be a list of times such as [\"11:30\", \"16:30\"]" })
      .min(1, { error: "must hold at least one time" })
      .refine((d) => d.every((t, i) => i === 0 || d[i - 1] < t), { error: "must be in increasing order, each once" })
      .default(["11:30", "16:30"])
      .describe("The course's daily push deadlines, in timezone. @default [\"11:30\", \"16:30\"]"),
    proxy: classroomProxySchema,
    kubernetes: classroomKubernetesSchema.optional().describe("The class on a Kubernetes cluster: a namespace per student. @default - no classroom-k8s stack"),
  })
  .prefault({});

export const weekConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path of the JSON Schema, for editors."),
    network: networkSchema,
    sandbox: sandboxSchema,
    database: databaseSchema,
    api: apiSchema,
    model: modelSchema,
    streamlit: streamlitSchema,
    heroku: herokuSchema,
    gcp: gcpSchema,
    classroom: classroomSchema,
  })
  .superRefine((config, ctx) => {
    const ports: Array<[string, number]> = [
      ["sandbox.hostPort", config.sandbox.hostPort],
      ...config.sandbox.extraPorts.map((p, i): [string, number] => [`sandbox.extraPorts.${i}.hostPort`, p.hostPort]),
      ["database.hostPort", config.database.hostPort],
      ["api.hostPort", config.api.hostPort],
    ];
    if (config.streamlit.enabled) ports.push(["streamlit.hostPort", config.streamlit.hostPort]);
    const seen = new Map<number, string>();
    for (const [field, port] of ports) {
      const other = seen.get(port);
      if (other !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: field.split("."),
          input: port,
          message: `is already used by ${other}`,
        });
      } else {
        seen.set(port, field);
      }
    }
  });

/** The configuration as the stacks see it: every default filled in. */
export type WeekConfig = z.output<typeof weekConfigSchema>;
export type WeekConfigInput = z.input<typeof weekConfigSchema>;
