import * as ipaddr from "ipaddr.js";
import { resources, type Json } from "../document";
import type { Finding, PolicyRule } from "../rule";
import { blocksOf, boolOf, isExpression, show } from "../value";
import { RULE_IDS } from "../rule-ids";

function settingsOf(config: Json): Json {
  const settings = blocksOf(config.settings);
  return settings.known ? (settings.value[0] ?? {}) : { unknown: settings.raw };
}

function ipConfigurationOf(config: Json): Json {
  const ip = blocksOf(settingsOf(config).ip_configuration);
  return ip.known ? (ip.value[0] ?? {}) : { unknown: ip.raw };
}

/** WEEK-GCP-001: Cloud SQL requires SSL on every connection. */
export const gcpSqlSsl: PolicyRule = {
  id: RULE_IDS.gcpSqlSsl,
  statement: "Cloud SQL requires encrypted connections (ssl_mode ENCRYPTED_ONLY or stricter).",
  check(doc): Finding[] {
    return resources(doc, "google_sql_database_instance").flatMap((r) => {
      const mode = ipConfigurationOf(r.config).ssl_mode;
      if (mode === "ENCRYPTED_ONLY" || mode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") return [];
      return [{ path: r.path, message: `ssl_mode is ${show(mode ?? "unset")}`, fix: 'set settings.ip_configuration.ssl_mode = "ENCRYPTED_ONLY"' }];
    });
  },
};

type Interval = [bigint, bigint];

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/** The address range of a CIDR (or a single address), as IPv4 or IPv6 (IPv4-mapped IPv6 counts as IPv4). */
function rangeOf(value: string): { family: 4 | 6; range: Interval } | undefined {
  const text = value.includes("/") ? value : `${value}/${value.includes(":") ? 128 : 32}`;
  if (!ipaddr.isValidCIDR(text)) return undefined;
  let [address, prefix] = ipaddr.parseCIDR(text);
  if (address.kind() === "ipv6" && prefix >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const bits = address.kind() === "ipv4" ? 32 : 128;
  const start = toBigInt(address.toByteArray()) & ~((1n << BigInt(bits - prefix)) - 1n);
  return { family: bits === 32 ? 4 : 6, range: [start, start + (1n << BigInt(bits - prefix)) - 1n] };
}

/** True when the intervals together cover [0, max]. */
function covers(intervals: Interval[], max: bigint): boolean {
  let next = 0n;
  for (const [start, end] of [...intervals].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (start > next) return false;
    if (end + 1n > next) next = end + 1n;
    if (next > max) return true;
  }
  return next > max;
}

/** Why a set of authorised networks opens the database to the world, or undefined. */
export function worldNetworkProblem(values: unknown[]): string | undefined {
  const v4: Interval[] = [];
  const v6: Interval[] = [];
  for (const value of values) {
    if (typeof value !== "string" || isExpression(value)) return `authorised network ${show(value)} is an expression the rule cannot check`;
    const parsed = rangeOf(value.trim());
    if (parsed === undefined) return `authorised network ${show(value)} is not an address or CIDR range the rule can read`;
    (parsed.family === 4 ? v4 : v6).push(parsed.range);
  }
  if (covers(v4, (1n << 32n) - 1n)) return `authorised networks ${values.map(String).join(", ")} together cover every IPv4 address`;
  if (covers(v6, (1n << 128n) - 1n)) return `authorised networks ${values.map(String).join(", ")} together cover every IPv6 address`;
  return undefined;
}

/** WEEK-GCP-002: Cloud SQL has no authorised networks that together open it to the world. */
export const gcpSqlNoWorldNetwork: PolicyRule = {
  id: RULE_IDS.gcpSqlNoWorldNetwork,
  statement: "Cloud SQL authorises no set of networks that together cover every IPv4 or IPv6 address.",
  check(doc): Finding[] {
    return resources(doc, "google_sql_database_instance").flatMap((r) => {
      const fix = "connect through the Cloud SQL connector (/cloudsql socket) instead";
      const settings = settingsOf(r.config);
      if ("unknown" in settings || settings.dynamic !== undefined || r.config.dynamic !== undefined) {
        return [{ path: r.path, message: "settings are an expression or have dynamic blocks the rule cannot check", fix }];
      }
      const ip = ipConfigurationOf(r.config);
      if ("unknown" in ip) return [{ path: r.path, message: `ip_configuration is ${show(ip.unknown)}, an expression the rule cannot check`, fix }];
      if (ip.dynamic !== undefined) return [{ path: r.path, message: "ip_configuration has dynamic blocks the rule cannot check", fix }];
      const networks = blocksOf(ip.authorized_networks);
      if (!networks.known) return [{ path: r.path, message: `authorized_networks is ${show(networks.raw)}, an expression the rule cannot check`, fix }];
      const problem = worldNetworkProblem(networks.value.map((n) => n.value));
      return problem === undefined ? [] : [{ path: r.path, message: problem, fix }];
    });
  },
};

/** WEEK-GCP-003: Cloud SQL keeps backups and deletion protection. */
export const gcpSqlBackupsAndProtection: PolicyRule = {
  id: RULE_IDS.gcpSqlBackupsAndProtection,
  statement: "Cloud SQL has backups enabled and deletion protection on.",
  check(doc): Finding[] {
    return resources(doc, "google_sql_database_instance").flatMap((r) => {
      const settings = settingsOf(r.config);
      const findings: Finding[] = [];
      const backups = blocksOf(settings.backup_configuration);
      const enabled = boolOf(backups.known ? backups.value[0]?.enabled : backups.raw);
      if (!(enabled.known && enabled.value)) findings.push({ path: r.path, message: `backups are not enabled (${show(backups.known ? (backups.value[0]?.enabled ?? "unset") : backups.raw)})`, fix: "set settings.backup_configuration.enabled = true" });
      const instance = boolOf(r.config.deletion_protection, true);
      const api = boolOf(settings.deletion_protection_enabled);
      if (!(instance.known && instance.value && api.known && api.value)) {
        findings.push({
          path: r.path,
          message: `deletion protection is off (deletion_protection ${show(r.config.deletion_protection ?? "unset")}, settings.deletion_protection_enabled ${show(settings.deletion_protection_enabled ?? "unset")})`,
          fix: "set deletion_protection and settings.deletion_protection_enabled (gcp.deletionProtection), or suppress while tearing down",
        });
      }
      return findings;
    });
  },
};
