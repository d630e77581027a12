import * as path from "path";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { literalEnv } from "./local-service";
import type { ApiService } from "./api-service";
import type { PrivateNetwork } from "./private-network";
import type { WorkloadImage } from "../shared/workload-image";
import { WorkloadService } from "./workload-service";

export interface StreamlitServiceProps {
  readonly network: PrivateNetwork;
  /** The API the app asks for predictions. */
  readonly api: ApiService;
  /** @default 8501 */
  readonly hostPort?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** A Streamlit image shared with other students' apps. @default - built here */
  readonly image?: WorkloadImage;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /**
   * The app's path behind a proxy (`alice/app`), without slashes at the ends.
   * @default - served at /
   */
  readonly baseUrlPath?: string;
}

export const STREAMLIT_PORT = 8501;

/** TP2's Streamlit app, built from `lambdas-src/streamlit`, asking the API for predictions. */
export class StreamlitService extends Construct {
  readonly workload: WorkloadService;
  readonly url: string;

  constructor(scope: Construct, id: string, props: StreamlitServiceProps) {
    super(scope, id);
    this.workload = new WorkloadService(this, "workload", {
      network: props.network,
      source: path.join(WORKLOADS, "streamlit"),
      alias: "streamlit",
      containerPort: STREAMLIT_PORT,
      hostPort: props.hostPort ?? STREAMLIT_PORT,
      memoryMiB: props.memoryMiB ?? 512,
      healthPath: `${props.baseUrlPath === undefined ? "" : `/${props.baseUrlPath}`}/_stcore/health`,
      env: [
        literalEnv("API_URL", props.api.internalUrl),
        ...(props.baseUrlPath === undefined ? [] : [literalEnv("STREAMLIT_SERVER_BASE_URL_PATH", props.baseUrlPath)]),
      ],
      image: props.image,
      cpus: props.cpus,
      dependsOn: [props.api.workload.service],
    });
    this.url = this.workload.service.hostUrl;
  }
}
