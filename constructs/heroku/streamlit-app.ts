import * as path from "path";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { STREAMLIT_CONTEXT } from "../shared/workload-contexts";
import type { HerokuApi } from "./api-app";
import { HerokuContainerApp } from "./container-app";

export interface HerokuStreamlitProps {
  /** App name, or a Terraform expression. */
  readonly name: string;
  /** The API the app asks for predictions (API_URL). */
  readonly api: HerokuApi;
  /** @default - the region of HerokuContainerApp (WEEK_DEFAULTS.heroku.region) */
  readonly region?: string;
  /** @default - the dyno size of HerokuContainerApp (WEEK_DEFAULTS.heroku.dynoSize) */
  readonly dynoSize?: string;
  /**
   * Folder of the Streamlit app, with its Dockerfile and heroku.yml.
   * @default lambdas-src/streamlit
   */
  readonly source?: string;
}

/** TP2's Streamlit app as a second Heroku container app, pointed at the API's web URL. */
export class HerokuStreamlit extends Construct {
  readonly app: HerokuContainerApp;
  readonly url: string;

  constructor(scope: Construct, id: string, props: HerokuStreamlitProps) {
    super(scope, id);
    this.app = new HerokuContainerApp(this, "app", {
      name: props.name,
      source: props.source ?? path.join(WORKLOADS, "streamlit"),
      contents: STREAMLIT_CONTEXT,
      region: props.region,
      dynoSize: props.dynoSize,
      dynoQuantity: 1,
      configVars: { API_URL: props.api.url },
    });
    this.url = this.app.baseUrl;
  }
}
