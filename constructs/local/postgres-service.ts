import * as fs from "fs";
import * as path from "path";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import { suppress } from "../../policies/suppress";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import { WORKLOADS, fromStackDir } from "../paths";
import { terraformEnvValue, type ProbeSchedule, type RuntimeValue, type ServiceEnv } from "./local-service";
import { labelBlocks, type PrivateNetwork } from "./private-network";
import { ServiceContainer } from "./service-container";
import { readDatabaseEnv } from "./database-env";
import { WEEK_DEFAULTS } from "../../config/defaults";
import { RULE_IDS } from "../../policies/rule-ids";

export interface PostgresServiceProps {
  readonly network: PrivateNetwork;
  /**
   * Official image, pinned.
   * @default WEEK_DEFAULTS.database.image
   */
  readonly image?: string;
  /** @default WEEK_DEFAULTS.database.hostPort */
  readonly hostPort?: number;
  /** @default WEEK_DEFAULTS.database.memoryMiB */
  readonly memoryMiB?: number;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /**
   * User and database written to a new `database.env`; an existing file wins.
   * @default WEEK_DEFAULTS.database.user
   */
  readonly user?: string;
  /** @default WEEK_DEFAULTS.database.database */
  readonly database?: string;
  /**
   * Refuse to destroy the data volume.
   * @default WEEK_DEFAULTS.database.protectVolume
   */
  readonly protectVolume?: boolean;
  /**
   * The env file, relative to the project root.
   * @default database.env
   */
  readonly envFile?: string;
  /**
   * SQL files run once, when the volume is new.
   * @default - every .sql file in lambdas-src/database/initdb
   */
  readonly initScripts?: string[];
  /** @default - its healthcheck, every 5 s, and `terraform apply` waits for it */
  readonly probes?: ProbeSchedule;
}

/** The data volume's name on the default network (see PrivateNetwork.volumeName). */
const DATA_VOLUME = "database-data";
/** What Compose says when a database.env setting is missing from its variables. */
const ENV_FILE_HINT = "run docker compose with --env-file database.env (README: Compose)";

/** Where the official image keeps its data: PostgreSQL 18 moved it up a level. */
export function postgresDataPath(image: string): string {
  const major = /:(\d+)/.exec(image)?.[1];
  return major !== undefined && Number(major) >= 18 ? "/var/lib/postgresql" : "/var/lib/postgresql/data";
}

/**
 * TP5's `database` service: the official PostgreSQL image, settings from `database.env`,
 * the named volume `database-data`, a `pg_isready` healthcheck and the course's table.
 *
 * `database.env` is read by Terraform at plan time, never at synth, so its password
 * stays out of `cdktf.out`. When the file is absent, a password is generated at apply
 * time and the file is written (mode 0600); an existing file is never overwritten.
 */
export class PostgresService extends Construct {
  readonly service: ServiceContainer;
  readonly volume: Volume;
  readonly user: string;
  /** Sensitive. */
  readonly password: string;
  readonly database: string;
  /** Connection URL for containers on the network (sensitive: it holds the password). */
  readonly url: string;
  /** `DATABASE_URL` for a service on the network, made of database.env's settings. */
  readonly urlEnv: ServiceEnv;
  readonly psqlCommand: string;
  readonly dumpCommand: string;
  readonly restoreCommand: string;

  constructor(scope: Construct, id: string, props: PostgresServiceProps) {
    super(scope, id);
    const imageRef = props.image ?? WEEK_DEFAULTS.database.image;
    const envFile = fromStackDir(props.envFile ?? "database.env");
    const initScripts =
      props.initScripts ??
      fs
        .readdirSync(path.join(WORKLOADS, "database", "initdb"))
        .filter((f) => f.endsWith(".sql"))
        .sort()
        .map((f) => path.join(WORKLOADS, "database", "initdb", f));

    const generated = new Password(this, "password", { length: 32, special: false });
    // database.env is read at plan time as Compose reads it, or refused (see database-env.ts).
    const env = readDatabaseEnv(this, {
      path: envFile,
      user: props.user ?? WEEK_DEFAULTS.database.user,
      database: props.database ?? WEEK_DEFAULTS.database.database,
      generatedPassword: `${generated.terraformResourceType}.${generated.friendlyUniqueId}.result`,
    });
    const envPath = env.path;
    this.user = env.user;
    this.database = env.database;
    this.password = env.password;

    new DataResource(this, "write_env_file", {
      triggersReplace: { file_exists: env.exists },
      lifecycle: { precondition: [env.precondition] },
      provisioners: [
        {
          type: "local-exec",
          interpreter: ["/bin/sh", "-c"],
          command:
            'if [ -e "$ENV_FILE" ]; then echo "database.env exists: left as it is"; ' +
            "else umask 077 && printf 'POSTGRES_USER=%s\\nPOSTGRES_PASSWORD=%s\\nPOSTGRES_DB=%s\\n' " +
            '"$POSTGRES_USER" "$POSTGRES_PASSWORD" "$POSTGRES_DB" > "$ENV_FILE" && echo "wrote database.env (mode 0600)"; fi',
          environment: {
            ENV_FILE: envPath,
            POSTGRES_USER: this.user,
            POSTGRES_PASSWORD: this.password,
            POSTGRES_DB: this.database,
          },
        },
      ],
    });

    const volumeName = props.network.volumeName(DATA_VOLUME);
    this.volume = new Volume(this, "data", {
      name: volumeName,
      labels: labelBlocks(props.network.labels),
      lifecycle: { preventDestroy: props.protectVolume ?? WEEK_DEFAULTS.database.protectVolume },
    });
    if (!(props.protectVolume ?? WEEK_DEFAULTS.database.protectVolume)) {
      suppress(this.volume, RULE_IDS.statefulDestroyProtection, "database.protectVolume is false in the configuration: the week is being torn down");
    }
    const image = new Image(this, "image", { name: imageRef, keepLocally: true });

    // database.env's settings: read by Terraform at plan time, by Compose from --env-file
    const setting = (variable: string, terraform: string): RuntimeValue => ({
      variable,
      terraform,
      required: `${variable} comes from database.env: ${ENV_FILE_HINT}`,
    });
    const user = setting("POSTGRES_USER", this.user);
    const password = setting("POSTGRES_PASSWORD", this.password);
    const database = setting("POSTGRES_DB", this.database);
    this.urlEnv = {
      name: "DATABASE_URL",
      parts: ["postgresql://", { value: user }, ":", { value: password, urlencode: true }, "@database:5432/", { value: database }],
      sensitive: true,
    };

    this.service = new ServiceContainer(this, "service", {
      network: props.network,
      alias: "database",
      image: { terraform: image.imageId, pull: imageRef },
      ports: [{ container: 5432, host: props.hostPort ?? WEEK_DEFAULTS.database.hostPort }],
      memoryMiB: props.memoryMiB ?? WEEK_DEFAULTS.database.memoryMiB,
      cpus: props.cpus,
      envFile: { path: props.envFile ?? "database.env", values: [user, password, database] },
      volumes: [{ name: volumeName, terraformName: this.volume.name, target: postgresDataPath(imageRef) }],
      files: initScripts.map((file) => ({ source: file, target: `/docker-entrypoint-initdb.d/${path.basename(file)}` })),
      healthcheck: {
        // TCP, not the socket: the image's temporary init server listens on the socket only.
        test: ["CMD-SHELL", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
        interval: "5s",
        timeout: "3s",
        retries: 12,
        startPeriod: "10s",
      },
      waitUntilHealthy: true,
      probes: props.probes,
    });

    const container = this.service.container.name;
    this.url = terraformEnvValue(this.urlEnv);
    this.psqlCommand = `docker exec -it ${container} psql -U ${this.user} -d ${this.database}`;
    this.dumpCommand = `docker exec ${container} pg_dump -U ${this.user} -d ${this.database} --format=custom > week.dump`;
    this.restoreCommand = `docker exec -i ${container} pg_restore -U ${this.user} -d ${this.database} --clean --if-exists --no-owner < week.dump`;
  }
}
