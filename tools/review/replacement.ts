/**
 * What Terraform does when an attribute of a resource changes, as far as the providers' schemas
 * are known here (no provider is downloaded for a review): "replaced" where the attribute forces
 * a new resource, "updated" where the provider changes it in place, and otherwise "unknown"
 * (the review then says "update, or replacement: see plan").
 *
 * Sources: the argument references of kreuzwerker/docker 3.x, hashicorp/google 6.x,
 * hashicorp/random, hashicorp/time and heroku/heroku 5.x ("Changing this forces a new resource").
 */

export type Effect = "replaced" | "updated" | "unknown";

interface TypeRule {
  /** Top-level attributes that force replacement. */
  readonly replace?: readonly string[];
  /** Top-level attributes the provider updates in place. */
  readonly update?: readonly string[];
  /** Every attribute forces replacement (the resource has no update). */
  readonly replaceAll?: boolean;
  /** A word for the reviewer on an attribute whose effect is not a plain replace or update. */
  readonly notes?: Readonly<Record<string, string>>;
}

/** Attributes that never reach the provider: Terraform's own meta-arguments. */
const META = new Set(["depends_on", "lifecycle", "count", "for_each", "provider", "provisioner", "connection", "timeouts"]);

const IAM_MEMBER: TypeRule = { replaceAll: true };

export const TYPE_RULES: Readonly<Record<string, TypeRule>> = {
  docker_container: {
    // the provider updates only these in place; every other argument is ForceNew
    update: [
      "restart", "max_retry_count", "cpu_shares", "cpu_set", "memory", "memory_swap",
      "must_run", "wait", "wait_timeout", "start", "attach", "logs", "rm", "destroy_grace_seconds",
      "remove_volumes", "container_read_refresh_timeout_milliseconds",
    ],
    replace: [
      "image", "name", "env", "ports", "volumes", "mounts", "networks_advanced", "network_mode", "command",
      "entrypoint", "hostname", "domainname", "user", "labels", "healthcheck", "upload", "log_driver", "log_opts",
      "privileged", "capabilities", "working_dir", "host", "dns", "dns_opts", "dns_search", "devices", "tmpfs",
      "sysctls", "ulimit", "shm_size", "init", "ipc_mode", "pid_mode", "group_add", "security_opts", "stop_signal",
      "stop_timeout", "runtime", "gpus", "tty", "stdin_open", "read_only", "publish_all_ports", "userns_mode",
      "storage_opts", "cgroupns_mode",
    ],
  },
  docker_image: {
    replace: ["name", "build", "triggers", "platform", "pull_triggers"],
    update: ["keep_locally", "force_remove"],
  },
  docker_registry_image: { replace: ["name"], update: ["keep_remotely", "insecure_skip_verify"] },
  docker_volume: { replaceAll: true },
  docker_network: { replaceAll: true },
  random_password: { replaceAll: true },
  random_id: { replaceAll: true },
  random_string: { replaceAll: true },
  terraform_data: { replace: ["triggers_replace"], update: ["input"] },
  time_sleep: { replace: ["triggers"] },
  google_sql_database_instance: {
    replace: ["name", "region", "project", "master_instance_name", "encryption_key_name"],
    update: ["settings", "deletion_protection", "root_password", "maintenance_version"],
    notes: {
      database_version: "Cloud SQL upgrades a major version in place (downtime, no way back) or refuses it",
    },
  },
  google_sql_database: { replace: ["name", "instance", "project"] },
  google_sql_user: { replace: ["name", "instance", "host", "project", "type"], update: ["password_wo_version"] },
  google_cloud_run_v2_service: {
    replace: ["name", "location", "project"],
    update: ["template", "labels", "annotations", "ingress", "scaling", "traffic", "deletion_protection", "description", "launch_stage", "client", "invoker_iam_disabled"],
  },
  google_cloud_run_v2_service_iam_member: IAM_MEMBER,
  google_project_iam_member: IAM_MEMBER,
  google_secret_manager_secret_iam_member: IAM_MEMBER,
  google_artifact_registry_repository: {
    replace: ["repository_id", "location", "format", "project", "mode"],
    update: ["description", "labels", "cleanup_policies", "cleanup_policy_dry_run", "docker_config"],
  },
  google_secret_manager_secret: { replace: ["secret_id", "project", "replication"], update: ["labels", "annotations", "ttl", "expire_time"] },
  google_secret_manager_secret_version: {
    replace: ["secret", "secret_data", "secret_data_wo_version", "is_secret_data_base64"],
    update: ["enabled", "deletion_policy"],
  },
  google_service_account: { replace: ["account_id", "project"], update: ["display_name", "description", "disabled"] },
  google_project_service: { replace: ["service", "project"], update: ["disable_on_destroy", "disable_dependent_services"] },
  heroku_app: {
    replace: ["region", "space", "organization"],
    update: ["stack", "config_vars", "sensitive_config_vars", "buildpacks", "acm", "internal_routing"],
    notes: { name: "the provider renames the app (its herokuapp.com URL changes); check the plan says update" },
  },
  heroku_addon: { replace: ["app_id", "name", "config"], update: ["plan"] },
  heroku_build: { replaceAll: true },
  heroku_formation: { replace: ["app_id", "type"], update: ["quantity", "size"] },
};

/** What a change of top-level attribute `attribute` of a resource of type `type` does. */
export function effectOf(type: string, attribute: string): Effect {
  if (META.has(attribute)) return "updated";
  const rule = TYPE_RULES[type];
  if (rule === undefined) return "unknown";
  if (rule.notes?.[attribute] !== undefined) return "unknown";
  if (rule.replaceAll === true) return "replaced";
  if (rule.replace?.includes(attribute)) return "replaced";
  if (rule.update?.includes(attribute)) return "updated";
  return "unknown";
}

/** The note for an attribute whose effect depends on the provider or the values. */
export function noteOf(type: string, attribute: string): string | undefined {
  return TYPE_RULES[type]?.notes?.[attribute];
}

/** Meta-arguments change how Terraform treats a resource, not the resource itself. */
export function isMeta(attribute: string): boolean {
  return META.has(attribute);
}
