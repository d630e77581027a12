import * as path from "path";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { STREAMLIT_CONTEXT } from "../shared/workload-contexts";
import type { ArtifactRepository } from "./artifact-repository";
import type { CloudRunApi } from "./cloud-run-api";
import { CloudRunApp } from "./cloud-run-app";
import { PushedImage } from "./pushed-image";

export interface CloudRunStreamlitProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  readonly region: string;
  readonly repository: ArtifactRepository;
  /** The API the app asks for predictions (API_URL). */
  readonly api: CloudRunApi;
  /** @default 1 */
  readonly maxInstances?: number;
  /** @default - CloudRunApp's (WEEK_DEFAULTS.gcp.deletionProtection) */
  readonly deletionProtection?: boolean;
  /** @default - CloudRunApp's (WEEK_DEFAULTS.gcp.allowPublicAccess) */
  readonly allowPublicAccess?: boolean;
  /**
   * Folder of the Streamlit app, with its Dockerfile.
   * @default lambdas-src/streamlit
   */
  readonly source?: string;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * TP2's Streamlit app on Cloud Run, with API_URL set to the API's URL.
 *
 * Its service account may invoke the API, which is what a private API requires; the app then
 * sends an identity token for the API's URL with each request (API_ID_TOKEN_AUDIENCE).
 */
export class CloudRunStreamlit extends Construct {
  readonly image: PushedImage;
  readonly app: CloudRunApp;
  readonly url: string;

  constructor(scope: Construct, id: string, props: CloudRunStreamlitProps) {
    super(scope, id);
    this.image = new PushedImage(this, "image", {
      source: props.source ?? path.join(WORKLOADS, "streamlit"),
      contents: STREAMLIT_CONTEXT,
      name: "streamlit",
      repository: props.repository,
    });
    this.app = new CloudRunApp(this, "service", {
      project: props.project,
      region: props.region,
      name: "week-streamlit",
      image: this.image.ref,
      healthPath: "/_stcore/health",
      memoryMiB: 512,
      maxInstances: props.maxInstances ?? 1,
      // A private API answers only callers with an identity token for its URL: the app asks
      // the metadata server for one when API_ID_TOKEN_AUDIENCE is set.
      env: props.allowPublicAccess === true ? { API_URL: props.api.url } : { API_URL: props.api.url, API_ID_TOKEN_AUDIENCE: props.api.url },
      // A Streamlit session is a websocket to one instance.
      sessionAffinity: true,
      deletionProtection: props.deletionProtection,
      allowPublicAccess: props.allowPublicAccess,
      dependsOn: props.dependsOn,
    });
    if (props.api.app.publicInvoker === undefined) {
      props.api.app.grantInvoker("api_invoker", this.app.serviceAccount.member, this);
    }
    this.url = this.app.url;
  }
}
