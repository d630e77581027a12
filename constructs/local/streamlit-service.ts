import * as path from "path";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { STREAMLIT_CONTEXT } from "../shared/workload-contexts";
import { literalEnv, type ProbeSchedule } from "./local-service";
import type { ApiService } from "./api-service";
import type { PrivateNetwork } from "./private-network";
import type { WorkloadImage } from "../shared/workload-image";
import { WorkloadService } from "./workload-service";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface StreamlitServiceProps {
  readonly network: PrivateNetwork;
  /** The API the app asks for predictions. */
  readonly api: ApiService;
  /** @default WEEK_DEFAULTS.streamlit.hostPort */
  readonly hostPort?: number;
  /** @default WEEK_DEFAULTS.streamlit.memoryMiB */
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
  /** @default - the workload's: every 10 s, and `terraform apply` waits for it */
  readonly probes?: ProbeSchedule;
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
      contents: STREAMLIT_CONTEXT,
      alias: "streamlit",
      containerPort: STREAMLIT_PORT,
      hostPort: props.hostPort ?? WEEK_DEFAULTS.streamlit.hostPort,
      memoryMiB: props.memoryMiB ?? WEEK_DEFAULTS.streamlit.memoryMiB,
      healthPath: `${props.baseUrlPath === undefined ? "" : `/${props.baseUrlPath}`}/_stcore/health`,
      env: [
        literalEnv("API_URL", props.api.internalUrl),
        ...(props.baseUrlPath === undefined ? [] : [literalEnv("STREAMLIT_SERVER_BASE_URL_PATH", props.baseUrlPath)]),
      ],
      image: props.image,
      cpus: props.cpus,
      probes: props.probes,
      dependsOn: [props.api.workload.service],
    });
    this.url = this.workload.service.hostUrl;
  }
}
