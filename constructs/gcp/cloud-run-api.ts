import * as path from "path";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { API_CONTEXT } from "../shared/workload-contexts";
import { modelTrainingFiles, type ModelConfig } from "../shared/model-training";
import type { ArtifactRepository } from "./artifact-repository";
import type { CloudSqlPostgres } from "./cloud-sql-postgres";
import { CloudRunApp } from "./cloud-run-app";
import { PushedImage } from "./pushed-image";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface CloudRunApiProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  readonly region: string;
  readonly repository: ArtifactRepository;
  /** Where predictions are stored; DATABASE_URL comes from its secret. */
  readonly database: CloudSqlPostgres;
  /** @default WEEK_DEFAULTS.gcp.apiMemoryMiB */
  readonly memoryMiB?: number;
  /** @default WEEK_DEFAULTS.gcp.apiCpu */
  readonly cpu?: number;
  /** @default WEEK_DEFAULTS.gcp.minInstances */
  readonly minInstances?: number;
  /** @default WEEK_DEFAULTS.gcp.maxInstances */
  readonly maxInstances?: number;
  /** @default WEEK_DEFAULTS.gcp.deletionProtection */
  readonly deletionProtection?: boolean;
  /** @default WEEK_DEFAULTS.gcp.allowPublicAccess */
  readonly allowPublicAccess?: boolean;
  /**
   * Folder of the API, with its Dockerfile.
   * @default lambdas-src/api
   */
  readonly source?: string;
  /** What the image trains on (week.config.json `model`). @default - the sample, course pipeline */
  readonly model?: ModelConfig;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The prediction API on Cloud Run: its image pushed to Artifact Registry, the Cloud SQL
 * socket mounted at /cloudsql, and DATABASE_URL
 * (`postgresql://user:pass@/db?host=/cloudsql/<connection name>`) read from Secret Manager.
 */
export class CloudRunApi extends Construct {
  readonly image: PushedImage;
  readonly app: CloudRunApp;
  readonly url: string;
  readonly docsUrl: string;

  constructor(scope: Construct, id: string, props: CloudRunApiProps) {
    super(scope, id);
    this.image = new PushedImage(this, "image", {
      source: props.source ?? path.join(WORKLOADS, "api"),
      contents: API_CONTEXT,
      name: "api",
      repository: props.repository,
      contextFiles: props.model === undefined ? undefined : modelTrainingFiles(props.model),
    });
    this.app = new CloudRunApp(this, "service", {
      project: props.project,
      region: props.region,
      name: "week-api",
      image: this.image.ref,
      healthPath: "/health",
      memoryMiB: props.memoryMiB ?? WEEK_DEFAULTS.gcp.apiMemoryMiB,
      cpu: props.cpu ?? WEEK_DEFAULTS.gcp.apiCpu,
      minInstances: props.minInstances,
      maxInstances: props.maxInstances,
      secretEnv: {
        DATABASE_URL: { secret: props.database.databaseUrlSecret, version: props.database.databaseUrlVersion },
      },
      cloudSqlInstances: [props.database.connectionName],
      deletionProtection: props.deletionProtection,
      allowPublicAccess: props.allowPublicAccess,
      dependsOn: props.dependsOn,
    });
    this.url = this.app.url;
    this.docsUrl = `${this.app.url}/docs`;
  }
}
