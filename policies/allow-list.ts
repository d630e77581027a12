/**
 * What the pack knows, by allow-list: the resource types (and data sources, providers and
 * top-level blocks) each stack may hold, and for each type the attributes that may be set,
 * each with the rules that judge its value. WEEK-PACK-001 (rules/known-resources.ts) reports
 * everything else: a type no stack table admits, an attribute no entry declares, a meta-argument
 * (`count`, `for_each`, `dynamic`, `provisioner`) nobody reviewed.
 *
 * Adding a type or an attribute is a reviewed change of this file, with bad and good cases in
 * __tests__/policies.test.ts. A stack's table is a list of type names (`STACK_TYPES.local`);
 * a new stack adds its own list (spread an existing one to extend it); a stack with no table
 * gets `STRICT_DEFAULT`, which admits nothing, so every resource of it is a finding until its
 * table is written.
 *
 * Attribute paths are the document's keys joined by dots, with list and block nesting removed
 * (`ports.ip` for every element of `ports`, whether the document writes a block as an object or
 * a list); `name.*` is any key of a map (`triggers.*`).
 */
import { RULE_IDS, type RuleId } from "./rule-ids";

export interface AttributeEntry {
  /** The rules that judge this attribute's value (WEEK-SECRET-001 reads every string of the document besides). */
  readonly judgedBy: readonly RuleId[];
  /** A check of the value made by WEEK-PACK-001 itself: a problem, or undefined when the value is allowed. */
  readonly value?: (value: unknown) => string | undefined;
}

export interface TypeEntry {
  readonly attributes: Readonly<Record<string, AttributeEntry>>;
}

const by = (...judgedBy: RuleId[]): AttributeEntry => ({ judgedBy });
/** Free text no rule needs to judge beyond the secret scan (a name, a description, a timeout). */
const text = by(RULE_IDS.secretLiterals);
/** Only the literal values given (a regular expression over the whole value). */
const oneOf = (allowed: RegExp, ...judgedBy: RuleId[]): AttributeEntry => ({
  judgedBy: [RULE_IDS.knownResources, ...judgedBy],
  value: (v) => (typeof v === "string" && allowed.test(v) ? undefined : `${JSON.stringify(v)} is not one of the values the pack admits (${allowed.source})`),
});
/** A reference to a resource of `type` the document declares (checked by WEEK-PACK-001). */
const referenceTo = (type: string, ...attributes: string[]): AttributeEntry => ({
  judgedBy: [RULE_IDS.knownResources],
  value: (v) =>
    typeof v === "string" && new RegExp(`^\\$\\{${type}\\.[\\w-]+\\.(${attributes.join("|")})\\}$`).test(v)
      ? undefined
      : `${JSON.stringify(v)} is not a reference to a ${type}'s ${attributes.join(" or ")}`,
});
const meta = { depends_on: text };

/**
 * The local-exec provisioners the pack admits, exactly: PostgresService writes database.env
 * once, from the configured user and database and the generated password, mode 0600. Any
 * other command, interpreter or setting is a finding.
 */
export const KNOWN_LOCAL_EXEC = {
  commands: [
    `if [ -e "$ENV_FILE" ]; then echo "database.env exists: left as it is"; else umask 077 && printf 'POSTGRES_USER=%s\\nPOSTGRES_PASSWORD=%s\\nPOSTGRES_DB=%s\\n' "$POSTGRES_USER" "$POSTGRES_PASSWORD" "$POSTGRES_DB" > "$ENV_FILE" && echo "wrote database.env (mode 0600)"; fi`,
  ],
  interpreter: ["/bin/sh", "-c"],
} as const;

const exactly = (allowed: readonly unknown[], what: string): AttributeEntry => ({
  judgedBy: [RULE_IDS.knownResources],
  value: (v) => (allowed.some((a) => JSON.stringify(a) === JSON.stringify(v)) ? undefined : `${what} is not one the pack admits`),
});

/** Every type the pack knows, with its attributes. */
export const RESOURCE_TYPES: Readonly<Record<string, TypeEntry>> = {
  docker_container: {
    attributes: {
      ...meta,
      name: text,
      hostname: text,
      image: by(RULE_IDS.dockerPinnedImage),
      env: by(RULE_IDS.secretLiterals),
      command: by(RULE_IDS.secretLiterals),
      entrypoint: by(RULE_IDS.secretLiterals),
      working_dir: text,
      user: by(RULE_IDS.dockerNoHostControl),
      privileged: by(RULE_IDS.dockerNoHostControl),
      network_mode: by(RULE_IDS.dockerNoHostControl),
      pid_mode: by(RULE_IDS.dockerNoHostControl),
      ipc_mode: by(RULE_IDS.dockerNoHostControl),
      userns_mode: by(RULE_IDS.dockerNoHostControl),
      cgroupns_mode: by(RULE_IDS.dockerNoHostControl),
      "capabilities.add": by(RULE_IDS.dockerNoHostControl),
      "capabilities.drop": by(RULE_IDS.dockerNoHostControl),
      security_opts: by(RULE_IDS.dockerNoHostControl),
      "healthcheck.test": by(RULE_IDS.dockerContainerLimits, RULE_IDS.secretLiterals),
      "healthcheck.interval": by(RULE_IDS.dockerContainerLimits),
      "healthcheck.retries": by(RULE_IDS.dockerContainerLimits),
      "healthcheck.start_period": by(RULE_IDS.dockerContainerLimits),
      "healthcheck.timeout": by(RULE_IDS.dockerContainerLimits),
      memory: by(RULE_IDS.dockerContainerLimits),
      restart: by(RULE_IDS.dockerContainerLimits),
      log_driver: oneOf(/^(json-file|local)$/),
      "log_opts.max-file": text,
      "log_opts.max-size": text,
      "networks_advanced.name": referenceTo("docker_network", "name", "id"),
      "networks_advanced.aliases": text,
      "ports.external": by(RULE_IDS.dockerLoopbackPorts),
      "ports.internal": by(RULE_IDS.dockerLoopbackPorts),
      "ports.ip": by(RULE_IDS.dockerLoopbackPorts),
      "ports.protocol": oneOf(/^(tcp|udp)$/),
      "volumes.container_path": by(RULE_IDS.dockerNoHostControl),
      "volumes.volume_name": by(RULE_IDS.dockerNoHostControl),
      "volumes.host_path": by(RULE_IDS.dockerNoHostControl),
      "volumes.read_only": text,
      "mounts.type": oneOf(/^(bind|volume|tmpfs)$/, RULE_IDS.dockerNoHostControl),
      "mounts.source": by(RULE_IDS.dockerNoHostControl),
      "mounts.target": by(RULE_IDS.dockerNoHostControl),
      "mounts.read_only": text,
      "labels.label": text,
      "labels.value": by(RULE_IDS.secretLiterals),
      "upload.content": by(RULE_IDS.secretLiterals),
      "upload.file": text,
      wait: text,
      wait_timeout: text,
    },
  },
  docker_image: {
    attributes: {
      name: by(RULE_IDS.dockerPinnedImage),
      keep_locally: text,
      "build.context": by(RULE_IDS.dockerfilePinnedBase),
      "build.dockerfile": by(RULE_IDS.dockerfilePinnedBase),
      "build.target": by(RULE_IDS.dockerfileNonRoot),
      "build.build_args.*": by(RULE_IDS.dockerfilePinnedBase, RULE_IDS.dockerfileNonRoot, RULE_IDS.secretLiterals),
      "build.platform": text,
      "triggers.*": text,
    },
  },
  docker_network: {
    attributes: { name: text, driver: oneOf(/^bridge$/), internal: text, "labels.label": text, "labels.value": by(RULE_IDS.secretLiterals) },
  },
  docker_volume: {
    attributes: {
      name: text,
      driver: oneOf(/^local$/, RULE_IDS.dockerNoHostControl),
      "labels.label": text,
      "labels.value": by(RULE_IDS.secretLiterals),
      "lifecycle.prevent_destroy": by(RULE_IDS.statefulDestroyProtection),
    },
  },
  docker_registry_image: {
    attributes: { name: by(RULE_IDS.dockerPinnedImage), keep_remotely: text, provider: text, "triggers.*": text },
  },
  random_password: {
    attributes: { length: text, special: text, upper: text, lower: text, numeric: text, override_special: text, "keepers.*": text },
  },
  random_id: { attributes: { byte_length: text, prefix: text, "keepers.*": text } },
  time_sleep: { attributes: { ...meta, create_duration: text, "triggers.*": text } },
  terraform_data: {
    attributes: {
      "lifecycle.precondition.condition": text,
      "lifecycle.precondition.error_message": text,
      "triggers_replace.*": text,
      "provisioner.local-exec.command": exactly(KNOWN_LOCAL_EXEC.commands, "the local-exec command"),
      "provisioner.local-exec.interpreter": exactly([KNOWN_LOCAL_EXEC.interpreter], "the local-exec interpreter"),
      "provisioner.local-exec.environment.ENV_FILE": text,
      "provisioner.local-exec.environment.POSTGRES_USER": by(RULE_IDS.secretLiterals),
      "provisioner.local-exec.environment.POSTGRES_PASSWORD": by(RULE_IDS.secretLiterals),
      "provisioner.local-exec.environment.POSTGRES_DB": by(RULE_IDS.secretLiterals),
    },
  },
  heroku_app: {
    attributes: {
      name: text,
      region: text,
      stack: oneOf(/^container$/),
      "config_vars.*": by(RULE_IDS.herokuSensitiveConfig, RULE_IDS.secretLiterals),
      // A map of expressions (the generated or given secrets): its keys and values stay out of the plan output.
      sensitive_config_vars: by(RULE_IDS.herokuSensitiveConfig),
      "sensitive_config_vars.*": by(RULE_IDS.herokuSensitiveConfig),
    },
  },
  heroku_addon: { attributes: { app_id: text, plan: text } },
  heroku_build: { attributes: { ...meta, app_id: text, "source.path": by(RULE_IDS.dockerfilePinnedBase, RULE_IDS.dockerfileNonRoot) } },
  heroku_formation: { attributes: { ...meta, app_id: text, quantity: text, size: text, type: text } },
  google_artifact_registry_repository: { attributes: { ...meta, description: text, format: oneOf(/^DOCKER$/), location: text, project: text, repository_id: text } },
  google_cloud_run_v2_service: {
    attributes: {
      ...meta,
      name: text,
      location: text,
      project: text,
      deletion_protection: text,
      ingress: text,
      invoker_iam_disabled: by(RULE_IDS.gcpRunNoPublicInvoke),
      "labels.*": text,
      "template.service_account": by(RULE_IDS.gcpRunDedicatedAccount),
      "template.session_affinity": text,
      "template.scaling.max_instance_count": text,
      "template.scaling.min_instance_count": text,
      "template.volumes.name": text,
      "template.volumes.cloud_sql_instance.instances": text,
      "template.containers.image": by(RULE_IDS.dockerPinnedImage),
      "template.containers.env.name": by(RULE_IDS.secretLiterals),
      "template.containers.env.value": by(RULE_IDS.secretLiterals),
      "template.containers.env.value_source.secret_key_ref.secret": by(RULE_IDS.secretLiterals),
      "template.containers.env.value_source.secret_key_ref.version": text,
      "template.containers.ports.container_port": text,
      "template.containers.resources.cpu_idle": text,
      "template.containers.resources.startup_cpu_boost": text,
      "template.containers.resources.limits.cpu": text,
      "template.containers.resources.limits.memory": text,
      "template.containers.volume_mounts.mount_path": text,
      "template.containers.volume_mounts.name": text,
      ...Object.fromEntries(
        ["liveness_probe", "startup_probe"].flatMap((probe) =>
          ["failure_threshold", "period_seconds", "timeout_seconds", "initial_delay_seconds", "http_get.path"].map((field) => [`template.containers.${probe}.${field}`, text]),
        ),
      ),
    },
  },
  google_cloud_run_v2_service_iam_member: {
    attributes: { name: text, location: text, project: text, role: by(RULE_IDS.gcpRunNoPublicInvoke), member: by(RULE_IDS.gcpRunNoPublicInvoke) },
  },
  google_project_iam_member: { attributes: { project: text, role: by(RULE_IDS.gcpRunNoPublicInvoke), member: by(RULE_IDS.gcpRunNoPublicInvoke) } },
  google_project_service: { attributes: { project: text, service: text, disable_dependent_services: text, disable_on_destroy: text } },
  google_secret_manager_secret: { attributes: { ...meta, project: text, secret_id: text, "labels.*": text } },
  google_secret_manager_secret_iam_member: { attributes: { project: text, secret_id: text, role: oneOf(/^roles\/secretmanager\.secretAccessor$/), member: by(RULE_IDS.gcpRunNoPublicInvoke) } },
  google_secret_manager_secret_version: {
    attributes: { secret: text, secret_data_wo: by(RULE_IDS.secretLiterals), secret_data_wo_version: text, "lifecycle.replace_triggered_by": text },
  },
  google_service_account: { attributes: { ...meta, account_id: text, display_name: text, project: text } },
  google_sql_database: { attributes: { deletion_policy: text, instance: text, name: text, project: text } },
  google_sql_database_instance: {
    attributes: {
      ...meta,
      name: text,
      project: text,
      region: text,
      database_version: text,
      deletion_protection: by(RULE_IDS.gcpSqlBackupsAndProtection),
      "settings.tier": text,
      "settings.edition": text,
      "settings.availability_type": text,
      "settings.disk_autoresize": text,
      "settings.deletion_protection_enabled": by(RULE_IDS.gcpSqlBackupsAndProtection),
      "settings.backup_configuration.enabled": by(RULE_IDS.gcpSqlBackupsAndProtection),
      "settings.backup_configuration.start_time": text,
      "settings.backup_configuration.backup_retention_settings.retained_backups": text,
      "settings.ip_configuration.ipv4_enabled": by(RULE_IDS.gcpSqlNoWorldNetwork),
      "settings.ip_configuration.ssl_mode": by(RULE_IDS.gcpSqlSsl),
      "settings.ip_configuration.authorized_networks.name": text,
      "settings.ip_configuration.authorized_networks.value": by(RULE_IDS.gcpSqlNoWorldNetwork),
      "settings.user_labels.*": text,
    },
  },
  google_sql_user: { attributes: { deletion_policy: text, instance: text, name: text, project: text, password_wo: by(RULE_IDS.secretLiterals), password_wo_version: text } },
};

/** Data sources the pack knows: reading them runs nothing and grants nothing. */
export const DATA_TYPES: Readonly<Record<string, TypeEntry>> = {
  google_client_config: { attributes: {} },
};

/** What a stack may hold. */
export interface StackTable {
  readonly resources: readonly string[];
  readonly data: readonly string[];
  readonly providers: readonly string[];
}

const LOCAL: StackTable = {
  resources: ["docker_container", "docker_image", "docker_network", "docker_volume", "random_password", "terraform_data"],
  data: [],
  providers: ["docker", "random"],
};

/** Each stack's table, by the stack's name. */
export const STACK_TYPES: Readonly<Record<string, StackTable>> = {
  local: LOCAL,
  heroku: { resources: ["heroku_app", "heroku_addon", "heroku_build", "heroku_formation"], data: [], providers: ["heroku"] },
  gcp: {
    resources: [
      "docker_image",
      "docker_registry_image",
      "google_artifact_registry_repository",
      "google_cloud_run_v2_service",
      "google_cloud_run_v2_service_iam_member",
      "google_project_iam_member",
      "google_project_service",
      "google_secret_manager_secret",
      "google_secret_manager_secret_iam_member",
      "google_secret_manager_secret_version",
      "google_service_account",
      "google_sql_database",
      "google_sql_database_instance",
      "google_sql_user",
      "random_id",
      "random_password",
      "time_sleep",
    ],
    data: ["google_client_config"],
    providers: ["docker", "google", "random", "time"],
  },
};

/** The table of a stack that has none: nothing is admitted. */
export const STRICT_DEFAULT: StackTable = { resources: [], data: [], providers: [] };

/** The table that judges a stack. */
export function stackTable(stack: string): StackTable {
  return Object.prototype.hasOwnProperty.call(STACK_TYPES, stack) ? STACK_TYPES[stack] : STRICT_DEFAULT;
}

/** Top-level blocks of a Terraform JSON document the pack reads; any other (module, import, check, moved...) is a finding. */
export const TOP_LEVEL = ["//", "terraform", "provider", "variable", "locals", "output", "resource", "data"] as const;

/** The entry of `attributePath` in `type`'s table, exact or through a map entry (`triggers.*`). */
export function attributeEntry(entry: TypeEntry, attributePath: string): AttributeEntry | undefined {
  const exact = entry.attributes[attributePath];
  if (exact !== undefined) return exact;
  const parts = attributePath.split(".");
  for (let n = parts.length - 1; n > 0; n--) {
    const wildcard = entry.attributes[`${parts.slice(0, n).join(".")}.*`];
    if (wildcard !== undefined) return wildcard;
  }
  return undefined;
}
