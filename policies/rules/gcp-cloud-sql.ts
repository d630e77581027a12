import { blocks, resourceOf, type Finding, type PolicyRule } from "../rule";

type SqlSettings = {
  ip_configuration?: unknown;
  backup_configuration?: unknown;
  deletion_protection_enabled?: boolean;
};

function settingsOf(config: Record<string, unknown>): SqlSettings {
  return (blocks(config.settings)[0] ?? {}) as SqlSettings;
}

/** WEEK-GCP-001: Cloud SQL requires SSL on every connection. */
export const gcpSqlSsl: PolicyRule = {
  id: "WEEK-GCP-001",
  statement: "Cloud SQL requires encrypted connections (ssl_mode ENCRYPTED_ONLY or stricter).",
  check(node): Finding[] {
    const found = resourceOf(node, "google_sql_database_instance");
    if (found === undefined) return [];
    const ip = (blocks(settingsOf(found.config).ip_configuration)[0] ?? {}) as { ssl_mode?: string };
    if (ip.ssl_mode === "ENCRYPTED_ONLY" || ip.ssl_mode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") return [];
    return [{ message: `ssl_mode is ${JSON.stringify(ip.ssl_mode ?? "unset")}`, fix: 'set settings.ip_configuration.ssl_mode = "ENCRYPTED_ONLY"' }];
  },
};

/** WEEK-GCP-002: Cloud SQL has no authorised network open to the world. */
export const gcpSqlNoWorldNetwork: PolicyRule = {
  id: "WEEK-GCP-002",
  statement: "Cloud SQL authorises no network open to the world (0.0.0.0/0 or ::/0).",
  check(node): Finding[] {
    const found = resourceOf(node, "google_sql_database_instance");
    if (found === undefined) return [];
    const ip = (blocks(settingsOf(found.config).ip_configuration)[0] ?? {}) as { authorized_networks?: unknown };
    return blocks(ip.authorized_networks)
      .filter((n) => n.value === "0.0.0.0/0" || n.value === "::/0")
      .map((n) => ({ message: `authorised network ${String(n.value)} opens the database to the world`, fix: "connect through the Cloud SQL connector (/cloudsql socket) instead" }));
  },
};

/** WEEK-GCP-003: Cloud SQL keeps backups and deletion protection. */
export const gcpSqlBackupsAndProtection: PolicyRule = {
  id: "WEEK-GCP-003",
  statement: "Cloud SQL has backups enabled and deletion protection on.",
  check(node): Finding[] {
    const found = resourceOf(node, "google_sql_database_instance");
    if (found === undefined) return [];
    const settings = settingsOf(found.config);
    const findings: Finding[] = [];
    const backups = (blocks(settings.backup_configuration)[0] ?? {}) as { enabled?: boolean };
    if (backups.enabled !== true) findings.push({ message: "backups are not enabled", fix: "set settings.backup_configuration.enabled = true" });
    if (found.config.deletion_protection !== true || settings.deletion_protection_enabled !== true) {
      findings.push({
        message: "deletion protection is off",
        fix: "set deletion_protection and settings.deletion_protection_enabled (gcp.deletionProtection), or suppress while tearing down",
      });
    }
    return findings;
  },
};
