import * as path from "path";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { API_CONTEXT } from "../shared/workload-contexts";
import { modelTrainingFiles, type ModelConfig } from "../shared/model-training";
import type { PostgresService } from "./postgres-service";
import type { PrivateNetwork } from "./private-network";
import type { WorkloadImage, WorkloadImageProps } from "../shared/workload-image";
import { WorkloadService } from "./workload-service";
import type { ProbeSchedule } from "./local-service";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface ApiServiceProps {
  readonly network: PrivateNetwork;
  /** Where predictions are stored; the API waits for it to be healthy. */
  readonly database: PostgresService;
  /** @default WEEK_DEFAULTS.api.hostPort */
  readonly hostPort?: number;
  /** @default WEEK_DEFAULTS.api.memoryMiB */
  readonly memoryMiB?: number;
  /** What the image trains on (week.config.json `model`). @default - the sample, course pipeline */
  readonly model?: ModelConfig;
  /** An API image shared with other students' APIs. @default - built here */
  readonly image?: WorkloadImage;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /** @default - the workload's: every 10 s, and `terraform apply` waits for it */
  readonly probes?: ProbeSchedule;
}

/** The API's build: its folder and, when a model is configured, the training files. */
export function apiImageProps(model?: ModelConfig): WorkloadImageProps {
  return { source: path.join(WORKLOADS, "api"), contents: API_CONTEXT, repository: "week-api", files: model === undefined ? undefined : modelTrainingFiles(model) };
}

/** Port the API listens on inside its container. */
export const API_PORT = 8000;

/** TP3's prediction API (FastAPI), built from `lambdas-src/api`. */
export class ApiService extends Construct {
  readonly workload: WorkloadService;
  /** URL of the API for other containers on the network. */
  readonly internalUrl = `http://api:${API_PORT}`;
  readonly url: string;
  readonly docsUrl: string;

  constructor(scope: Construct, id: string, props: ApiServiceProps) {
    super(scope, id);
    const build = apiImageProps(props.model);
    this.workload = new WorkloadService(this, "workload", {
      network: props.network,
      source: build.source,
      contents: API_CONTEXT,
      alias: "api",
      containerPort: API_PORT,
      hostPort: props.hostPort ?? WEEK_DEFAULTS.api.hostPort,
      memoryMiB: props.memoryMiB ?? WEEK_DEFAULTS.api.memoryMiB,
      healthPath: "/health",
      env: [props.database.urlEnv],
      dependsOn: [props.database.service],
      contextFiles: build.files,
      image: props.image,
      cpus: props.cpus,
      probes: props.probes,
    });
    this.url = this.workload.service.hostUrl;
    this.docsUrl = `${this.url}/docs`;
  }
}
