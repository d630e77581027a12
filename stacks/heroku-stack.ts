import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { WeekConfig } from "../config/schema";
import { addStateBackend } from "./state";
import { HerokuApi } from "../constructs/heroku/api-app";
import { HerokuAppName } from "../constructs/heroku/app-name";
import { HerokuStreamlit } from "../constructs/heroku/streamlit-app";
import { HerokuProvider } from "../imports/providers/heroku/provider";

/**
 * `npx cdktf deploy heroku`: the API (and, behind heroku.streamlit, the Streamlit app) as
 * Heroku container apps with a Heroku Postgres add-on. Credentials: HEROKU_API_KEY.
 */
export class HerokuStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: WeekConfig) {
    super(scope, id);
    const heroku = config.heroku;
    addStateBackend(this);
    // The API key comes from HEROKU_API_KEY (or ~/.netrc) when Terraform runs, never from here.
    new HerokuProvider(this, "heroku", {});

    const derivesStreamlitName = heroku.streamlit && heroku.streamlitAppName === undefined;
    const apiName = new HerokuAppName(this, "api_name", {
      configured: heroku.appName,
      maxLength: derivesStreamlitName ? 27 : 30,
    });
    const api = new HerokuApi(this, "api", {
      name: apiName.value,
      region: heroku.region,
      postgresPlan: heroku.postgresPlan,
      dynoSize: heroku.dynoSize,
      dynoQuantity: heroku.dynoQuantity,
      model: config.model,
    });
    new TerraformOutput(this, "api_url", { value: api.url, description: "The prediction API on Heroku" });
    new TerraformOutput(this, "api_docs_url", { value: api.docsUrl, description: "The API's OpenAPI docs" });

    if (heroku.streamlit) {
      const streamlit = new HerokuStreamlit(this, "streamlit", {
        name: heroku.streamlitAppName ?? `${apiName.value}-ui`,
        api,
        region: heroku.region,
        dynoSize: heroku.dynoSize,
      });
      new TerraformOutput(this, "streamlit_url", { value: streamlit.url, description: "The Streamlit app on Heroku" });
    }
  }
}
