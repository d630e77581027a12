import * as path from "path";
import { TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { WORKLOADS } from "../paths";
import { API_CONTEXT } from "../shared/workload-contexts";
import { modelTrainingFiles, type ModelConfig } from "../shared/model-training";
import { HerokuContainerApp } from "./container-app";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface HerokuApiProps {
  /** App name, or a Terraform expression (see HerokuAppName). */
  readonly name: string;
  /** @default WEEK_DEFAULTS.heroku.region */
  readonly region?: string;
  /** @default WEEK_DEFAULTS.heroku.postgresPlan */
  readonly postgresPlan?: string;
  /** @default WEEK_DEFAULTS.heroku.dynoSize */
  readonly dynoSize?: string;
  /** @default WEEK_DEFAULTS.heroku.dynoQuantity */
  readonly dynoQuantity?: number;
  /**
   * Folder of the API, with its Dockerfile and heroku.yml.
   * @default lambdas-src/api
   */
  readonly source?: string;
  /** What the image trains on (week.config.json `model`). @default - the sample, course pipeline */
  readonly model?: ModelConfig;
}

/**
 * TP4: the prediction API as a Heroku container app with a Heroku Postgres add-on.
 *
 * The add-on sets DATABASE_URL (a postgres:// URL, which the API accepts) and Heroku sets
 * PORT. Any other secret the API needs comes at deploy time from the sensitive variable
 * `heroku_api_secrets` (TF_VAR_heroku_api_secrets='{"NAME":"value"}') into
 * sensitive_config_vars, so no value is ever written into the synthesised configuration.
 */
export class HerokuApi extends Construct {
  readonly app: HerokuContainerApp;
  /** Sensitive map of extra config vars, empty unless given at deploy time. */
  readonly secrets: TerraformVariable;
  readonly url: string;
  readonly docsUrl: string;
  readonly healthUrl: string;

  constructor(scope: Construct, id: string, props: HerokuApiProps) {
    super(scope, id);
    this.secrets = new TerraformVariable(this, "secrets", {
      type: "map(string)",
      default: {},
      nullable: false,
      sensitive: true,
      description: "Secret config vars for the API app, as a JSON object (TF_VAR_heroku_api_secrets). Set as sensitive_config_vars.",
    });
    this.secrets.overrideLogicalId("heroku_api_secrets");
    this.app = new HerokuContainerApp(this, "app", {
      name: props.name,
      source: props.source ?? path.join(WORKLOADS, "api"),
      contents: API_CONTEXT,
      region: props.region,
      dynoSize: props.dynoSize,
      dynoQuantity: props.dynoQuantity,
      postgresPlan: props.postgresPlan ?? WEEK_DEFAULTS.heroku.postgresPlan,
      sensitiveConfigVars: Token.asStringMap(this.secrets.value),
      contextFiles: props.model === undefined ? undefined : modelTrainingFiles(props.model),
    });
    this.url = this.app.baseUrl;
    this.docsUrl = `${this.app.baseUrl}/docs`;
    this.healthUrl = `${this.app.baseUrl}/health`;
  }
}
