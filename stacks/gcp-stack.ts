import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { WeekConfig } from "../config/schema";
import { addStateBackend } from "./state";
import { ArtifactRepository } from "../constructs/gcp/artifact-repository";
import { CloudRunApi } from "../constructs/gcp/cloud-run-api";
import { CloudRunStreamlit } from "../constructs/gcp/cloud-run-streamlit";
import { CloudSqlPostgres } from "../constructs/gcp/cloud-sql-postgres";
import { GcpProject } from "../constructs/gcp/project";
import { ProjectServices } from "../constructs/gcp/project-services";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";

/**
 * `npx cdktf deploy gcp`: the API (and, behind gcp.streamlit, the Streamlit app) on Cloud
 * Run, images in Artifact Registry, Cloud SQL for PostgreSQL, DATABASE_URL in Secret
 * Manager. Credentials: Application Default Credentials, and a local Docker daemon to build.
 */
export class GcpStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: WeekConfig) {
    super(scope, id);
    const gcp = config.gcp;
    addStateBackend(this);
    // Write-only arguments (password_wo, secret_data_wo) need Terraform 1.11.
    this.addOverride("terraform.required_version", ">= 1.11.0");

    const project = new GcpProject(this, "project", { configured: gcp.project });
    new GoogleProvider(this, "google", {
      project: project.id,
      region: gcp.region,
      // User credentials (gcloud auth application-default login) bill API quota to this project.
      billingProject: project.id,
      userProjectOverride: true,
      defaultLabels: { course: "week" },
    });
    // Builds on the local Docker daemon; the push provider is the repository's.
    new DockerProvider(this, "docker", {});
    new RandomProvider(this, "random", {});
    new TimeProvider(this, "time", {});

    const services = new ProjectServices(this, "services", { project: project.id });
    const repository = new ArtifactRepository(this, "registry", {
      project: project.id,
      region: gcp.region,
      dependsOn: [services.ready],
    });
    const database = new CloudSqlPostgres(this, "database", {
      project: project.id,
      region: gcp.region,
      tier: gcp.sqlTier,
      deletionProtection: gcp.deletionProtection,
      dependsOn: [services.ready],
    });
    const api = new CloudRunApi(this, "api", {
      project: project.id,
      region: gcp.region,
      repository,
      database,
      memoryMiB: gcp.apiMemoryMiB,
      cpu: gcp.apiCpu,
      minInstances: gcp.minInstances,
      maxInstances: gcp.maxInstances,
      deletionProtection: gcp.deletionProtection,
      allowPublicAccess: gcp.allowPublicAccess,
      model: config.model,
      dependsOn: [services.ready],
    });
    new TerraformOutput(this, "api_url", { value: api.url, description: "The prediction API on Cloud Run" });
    new TerraformOutput(this, "api_docs_url", { value: api.docsUrl, description: "The API's OpenAPI docs" });
    new TerraformOutput(this, "sql_connection_name", {
      value: database.connectionName,
      description: "Cloud SQL instance connection name (cloud-sql-proxy <name>, or gcloud sql connect)",
    });

    if (gcp.streamlit) {
      const streamlit = new CloudRunStreamlit(this, "streamlit", {
        project: project.id,
        region: gcp.region,
        repository,
        api,
        maxInstances: gcp.maxInstances,
        deletionProtection: gcp.deletionProtection,
        allowPublicAccess: gcp.allowPublicAccess,
        dependsOn: [services.ready],
      });
      new TerraformOutput(this, "streamlit_url", { value: streamlit.url, description: "The Streamlit app on Cloud Run" });
    }
  }
}
