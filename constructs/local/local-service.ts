/**
 * One local service of the week (sandbox, database, api, streamlit), described once as typed
 * data and rendered twice: to the Docker provider's resources (`ServiceContainer`) and to a
 * Compose service (`compose.ts`). Nothing here knows either rendering; the renderers read it.
 */
import { Fn } from "cdktf";

/**
 * A value known only when the week is deployed or started: a Terraform expression for the
 * Docker provider, a variable of the environment (or of `--env-file database.env`) for Compose.
 * Neither way puts the value itself in a file.
 */
export interface RuntimeValue {
  /** The variable Compose reads (`JUPYTER_TOKEN`). */
  readonly variable: string;
  /** The Terraform expression that gives the value at deploy time. */
  readonly terraform: string;
  /**
   * Compose's error when the variable is unset or empty (`${NAME:?message}`).
   * @default - optional: empty when unset (`${NAME:-}`)
   */
  readonly required?: string;
}

/** A piece of an environment value: literal text, or a runtime value (URL-encoded where asked). */
export type EnvPart = string | { readonly value: RuntimeValue; readonly urlencode?: boolean };

/** An environment variable: its name and where its value comes from. */
export interface ServiceEnv {
  readonly name: string;
  readonly parts: readonly EnvPart[];
  /** Marks the rendered Terraform value sensitive (a URL that holds a password). @default false */
  readonly sensitive?: boolean;
}

/** `NAME=value`, the same text everywhere. */
export function literalEnv(name: string, value: string): ServiceEnv {
  return { name, parts: [value] };
}

/** `NAME` from a runtime value. */
export function runtimeEnv(name: string, value: RuntimeValue): ServiceEnv {
  return { name, parts: [{ value }] };
}

/** Variables the service reads from an env file the user keeps (never in a rendering). */
export interface ServiceEnvFile {
  /** Path relative to the project root (`database.env`). */
  readonly path: string;
  /** Each variable of the file and the Terraform expression that reads it at plan time. */
  readonly values: readonly RuntimeValue[];
}

export interface ServicePort {
  /** Port the service listens on inside the container. */
  readonly container: number;
  /** Port published on the host. */
  readonly host: number;
  /** Host address the port binds (127.0.0.1 unless the configuration opens it). */
  readonly hostIp: string;
}

export interface ServiceVolume {
  /** The named volume (`database-data`). */
  readonly name: string;
  /** The same name as the Docker provider refers to it (the volume resource's `name`). */
  readonly terraformName: string;
  /** Where it is mounted in the container. */
  readonly target: string;
}

/** A folder of the host mounted read-only in the container. */
export interface ServiceBind {
  /** Absolute path on the host. */
  readonly source: string;
  /** Path in the container. */
  readonly target: string;
}

/** A file of the project given to the container (uploaded by Terraform, bind-mounted by Compose). */
export interface ServiceFile {
  /** Absolute path on the machine that renders. */
  readonly source: string;
  /** Path in the container. */
  readonly target: string;
}

export interface ServiceHealthcheck {
  readonly test: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

/** How the image is made: pulled by a pinned reference, or built from a folder of the project. */
export interface ServiceImage {
  /** The image as the Docker provider refers to it (a `docker_image` resource's id). */
  readonly terraform: string;
  /**
   * Pinned reference to pull (`postgres:17.6-bookworm`).
   * @default - built (see `build`)
   */
  readonly pull?: string;
  /** @default - pulled (see `pull`) */
  readonly build?: ServiceBuild;
}

export interface ServiceBuild {
  /** Absolute path of the folder the image is built from (the stack stages a copy of it). */
  readonly context: string;
  /** Dockerfile, relative to the context. */
  readonly dockerfile: string;
  /**
   * Content of a Dockerfile rendered from props, which `npm run compose` writes at `dockerfile`.
   * @default - the Dockerfile is a source file of the context
   */
  readonly rendered?: string;
}

/** Docker's restart policy of every service: back after a crash or a reboot, not after a stop. */
export const RESTART_POLICY = "unless-stopped";
/** Bounded logs for every service. */
export const LOG_DRIVER = "json-file";
export const LOG_OPTIONS: Readonly<Record<string, string>> = { "max-size": "10m", "max-file": "3" };

/** The typed description of one local service: the single source of both renderings. */
export interface LocalService {
  /** Service name: the Compose service and the alias on the network (`database`). */
  readonly name: string;
  readonly image: ServiceImage;
  /** @default - none */
  readonly env?: readonly ServiceEnv[];
  /** @default - none */
  readonly envFile?: ServiceEnvFile;
  /** The first is the service's own (its URL from the host). Empty when the network publishes nothing. */
  readonly ports: readonly ServicePort[];
  /** Ports the service listens on inside its network (Compose `expose`), published or not. @default - the published ports' */
  readonly expose?: readonly number[];
  /** @default - none */
  readonly volumes?: readonly ServiceVolume[];
  /** @default - none */
  readonly files?: readonly ServiceFile[];
  readonly healthcheck: ServiceHealthcheck;
  /** Memory limit in MiB. */
  readonly memoryMiB: number;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /** Labels of the container. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Host folders mounted read-only (the class's course data). @default - none */
  readonly binds?: readonly ServiceBind[];
  /** Services that must be healthy before this one starts. @default - none */
  readonly dependsOn?: readonly string[];
  /**
   * Docker provider only: `terraform apply` waits for the healthcheck before going on.
   * @default false
   */
  readonly waitUntilHealthy?: boolean;
}

/**
 * When Docker probes a service and whether `terraform apply` waits for it: a choice of the Docker
 * rendering, not of the service (Compose and Kubernetes keep the service's own healthcheck).
 */
export interface ProbeSchedule {
  /** Time between two probes, as Docker writes it (`30s`); the first probe runs one interval after the start. */
  readonly interval: string;
  /** `terraform apply` counts the container as created once it is healthy (the provider's `wait`). */
  readonly waitUntilHealthy: boolean;
}

/** An environment value as a Terraform string (expressions inlined). */
export function terraformEnvValue(env: ServiceEnv): string {
  const text = env.parts
    .map((part) => (typeof part === "string" ? part : part.urlencode ? Fn.urlencode(part.value.terraform) : part.value.terraform))
    .join("");
  return env.sensitive ? Fn.sensitive(text) : text;
}

/** The container's environment for the Docker provider: the env file's values, then the rest. */
export function terraformEnv(service: LocalService): string[] {
  return [
    ...(service.envFile?.values ?? []).map((v) => `${v.variable}=${v.terraform}`),
    ...(service.env ?? []).map((e) => `${e.name}=${terraformEnvValue(e)}`),
  ];
}
