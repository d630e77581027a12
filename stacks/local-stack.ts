import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { WeekConfig } from "../config/schema";
import { addStateBackend } from "./state";
import { ApiService } from "../constructs/local/api-service";
import { PostgresService } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { Sandbox } from "../constructs/local/sandbox";
import { StreamlitService } from "../constructs/local/streamlit-service";

/** `npx cdktf deploy local`: the whole week on the laptop's Docker. */
export class LocalStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: WeekConfig) {
    super(scope, id);
    addStateBackend(this);
    new DockerProvider(this, "docker", {});
    new RandomProvider(this, "random", {});

    const network = new PrivateNetwork(this, "network", config.network);
    const database = new PostgresService(this, "database", {
      network,
      ...config.database,
    });
    const sandbox = new Sandbox(this, "sandbox", {
      network,
      ...config.sandbox,
      protectVolume: config.database.protectVolume,
      databaseUrl: database.urlEnv,
    });
    const api = new ApiService(this, "api", { network, database, ...config.api, model: config.model });

    new TerraformOutput(this, "jupyter_url", { value: sandbox.url, description: "Jupyter Notebook; log in with jupyter_token" });
    new TerraformOutput(this, "jupyter_token", { value: sandbox.token, sensitive: true, description: "npx cdktf output local --outputs-file ... or terraform output -raw jupyter_token" });
    new TerraformOutput(this, "api_docs_url", { value: api.docsUrl, description: "The prediction API's OpenAPI docs" });
    if (config.streamlit.enabled) {
      const streamlit = new StreamlitService(this, "streamlit", { network, api, ...config.streamlit });
      new TerraformOutput(this, "streamlit_url", { value: streamlit.url, description: "The Streamlit app" });
    }
    new TerraformOutput(this, "psql_command", { value: database.psqlCommand, description: "A psql shell in the database container" });
    new TerraformOutput(this, "database_dump_command", { value: database.dumpCommand, description: "Dump the database to week.dump (custom format)" });
    new TerraformOutput(this, "database_restore_command", { value: database.restoreCommand, description: "Restore week.dump into the database" });
    new TerraformOutput(this, "database_password", { value: database.password, sensitive: true, description: "POSTGRES_PASSWORD, as in database.env" });
  }
}
