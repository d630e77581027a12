import { Fn, type ITerraformDependable, type TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version";
import { SqlDatabase } from "@cdktf/provider-google/lib/sql-database";
import { SqlDatabaseInstance } from "@cdktf/provider-google/lib/sql-database-instance";
import { SqlUser } from "@cdktf/provider-google/lib/sql-user";
import { Id } from "@cdktf/provider-random/lib/id";
import { Password } from "@cdktf/provider-random/lib/password";
import { CLOUD_SQL_ENTERPRISE_TIER } from "../../config/platforms";
import { suppress } from "../../policies/suppress";
import { RULE_IDS } from "../../policies/rule-ids";

/** `type.name` of a resource, as `replace_triggered_by` wants it. */
function address(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

export interface CloudSqlPostgresProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  readonly region: string;
  /**
   * Machine tier; the ENTERPRISE edition is set so that the small shared-core tiers work.
   * @default db-f1-micro
   */
  readonly tier?: string;
  /**
   * Refuse to delete the instance, in Terraform (`deletion_protection`) and in Cloud SQL
   * itself (`settings.deletion_protection_enabled`).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /** @default week */
  readonly database?: string;
  /** @default week */
  readonly user?: string;
  /**
   * Bump to rotate the password: a new one is generated and written to the user and to
   * the DATABASE_URL secret in the same apply.
   * @default 1
   */
  readonly passwordVersion?: number;
  /**
   * Secret Manager id of the DATABASE_URL secret.
   * @default week-database-url
   */
  readonly secretId?: string;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Cloud SQL for PostgreSQL 16 with its database, its user and a DATABASE_URL secret.
 *
 * No network is authorised: clients come through the Cloud SQL connector (Cloud Run's
 * `/cloudsql` socket), which is encrypted, so `ssl_mode` can require encryption. The
 * password is generated at apply time and written with write-only arguments
 * (`password_wo`, `secret_data_wo`), which keep it out of the user's and the secret
 * version's state; the generating `random_password` still holds it, so the state file
 * stays sensitive. Nothing of it reaches the synthesised configuration.
 */
export class CloudSqlPostgres extends Construct {
  readonly instance: SqlDatabaseInstance;
  readonly sqlDatabase: SqlDatabase;
  readonly sqlUser: SqlUser;
  /** The secret holding `postgresql://user:password@/db?host=/cloudsql/<connection name>`. */
  readonly databaseUrlSecret: SecretManagerSecret;
  readonly databaseUrlVersion: SecretManagerSecretVersion;
  /** `project:region:instance`, what Cloud Run mounts under /cloudsql. */
  readonly connectionName: string;

  constructor(scope: Construct, id: string, props: CloudSqlPostgresProps) {
    super(scope, id);
    const tier = props.tier ?? "db-f1-micro";
    if (!CLOUD_SQL_ENTERPRISE_TIER.test(tier)) {
      throw new Error(`${this.node.path}: tier must be a Cloud SQL Enterprise tier such as db-f1-micro, got ${JSON.stringify(tier)}`);
    }
    const passwordVersion = props.passwordVersion ?? 1;
    if (!Number.isInteger(passwordVersion) || passwordVersion < 1) {
      throw new Error(`${this.node.path}: passwordVersion must be a whole number of at least 1, got ${passwordVersion}`);
    }
    const deletionProtection = props.deletionProtection ?? true;

    // Cloud SQL keeps a deleted instance's name for about a week: a suffix lets the week be
    // torn down and stood up again.
    const suffix = new Id(this, "name_suffix", { byteLength: 2, prefix: "week-postgres-" });
    this.instance = new SqlDatabaseInstance(this, "instance", {
      project: props.project,
      region: props.region,
      name: suffix.hex,
      databaseVersion: "POSTGRES_16",
      deletionProtection,
      settings: {
        tier,
        // PostgreSQL 16 defaults to ENTERPRISE_PLUS, which refuses shared-core tiers.
        edition: "ENTERPRISE",
        availabilityType: "ZONAL",
        diskAutoresize: true,
        deletionProtectionEnabled: deletionProtection,
        backupConfiguration: {
          enabled: true,
          startTime: "03:00",
          backupRetentionSettings: { retainedBackups: 7 },
        },
        ipConfiguration: {
          // A public address reachable only through the connector: no authorised networks.
          ipv4Enabled: true,
          sslMode: "ENCRYPTED_ONLY",
        },
        userLabels: { course: "week" },
      },
      dependsOn: props.dependsOn,
    });
    if (!deletionProtection) {
      suppress(this.instance, RULE_IDS.gcpSqlBackupsAndProtection, "gcp.deletionProtection is false in the configuration: the week is being torn down");
    }
    this.connectionName = this.instance.connectionName;

    // Deleting the instance removes both; deleting them first fails when the user owns tables.
    this.sqlDatabase = new SqlDatabase(this, "database", {
      project: props.project,
      instance: this.instance.name,
      name: props.database ?? "week",
      deletionPolicy: "ABANDON",
    });
    const password = new Password(this, "password", {
      length: 32,
      special: false,
      keepers: { version: String(passwordVersion) },
    });
    this.sqlUser = new SqlUser(this, "user", {
      project: props.project,
      instance: this.instance.name,
      name: props.user ?? "week",
      passwordWo: password.result,
      passwordWoVersion: passwordVersion,
      deletionPolicy: "ABANDON",
    });

    this.databaseUrlSecret = new SecretManagerSecret(this, "database_url", {
      project: props.project,
      secretId: props.secretId ?? "week-database-url",
      replication: { auto: {} },
      labels: { course: "week" },
      dependsOn: props.dependsOn,
    });
    const url =
      `postgresql://${this.sqlUser.name}:${Fn.urlencode(password.result)}@/${this.sqlDatabase.name}` +
      `?host=/cloudsql/${this.instance.connectionName}`;
    this.databaseUrlVersion = new SecretManagerSecretVersion(this, "database_url_version", {
      secret: this.databaseUrlSecret.id,
      secretDataWo: url,
      secretDataWoVersion: passwordVersion,
      // A replaced user (a new instance) or database means a new URL, even at the same version.
      // Bare addresses: cdktf 0.21 writes a resource given here as "${...}", which Terraform
      // rejects (hashicorp/terraform-cdk#3196).
      lifecycle: { replaceTriggeredBy: [this.sqlUser, this.sqlDatabase].map(address) },
    });
  }
}
