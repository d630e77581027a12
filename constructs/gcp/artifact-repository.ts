import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { ArtifactRegistryRepository } from "@cdktf/provider-google/lib/artifact-registry-repository";
import { DataGoogleClientConfig } from "@cdktf/provider-google/lib/data-google-client-config";
import { GCP_REGION } from "../../config/platforms";

export interface ArtifactRepositoryProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  /** Region of the repository, also its registry host (`<region>-docker.pkg.dev`). */
  readonly region: string;
  /**
   * Repository id.
   * @default week
   */
  readonly repositoryId?: string;
  /** @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A Docker repository in Artifact Registry, and a Docker provider that may push to it.
 *
 * The push provider logs in with the caller's short-lived OAuth token (the
 * `google_client_config` data source, read at plan time from Application Default
 * Credentials): no key file, and nothing of it in the synthesised configuration.
 */
export class ArtifactRepository extends Construct {
  readonly repository: ArtifactRegistryRepository;
  /** `<region>-docker.pkg.dev` */
  readonly host: string;
  /** `<region>-docker.pkg.dev/<project>/<repository>`, the prefix of image names. */
  readonly path: string;
  /** The Docker provider (alias `artifact_registry`) that pushes with registry credentials. */
  readonly pushProvider: DockerProvider;

  constructor(scope: Construct, id: string, props: ArtifactRepositoryProps) {
    super(scope, id);
    const repositoryId = props.repositoryId ?? "week";
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(repositoryId)) {
      throw new Error(`${this.node.path}: repositoryId must be lowercase letters, digits and dashes, starting with a letter, got ${JSON.stringify(repositoryId)}`);
    }
    if (!GCP_REGION.test(props.region)) {
      throw new Error(`${this.node.path}: region must be a Google Cloud region such as europe-west1, got ${JSON.stringify(props.region)}`);
    }
    this.repository = new ArtifactRegistryRepository(this, "repository", {
      project: props.project,
      location: props.region,
      repositoryId,
      format: "DOCKER",
      description: "Images of the week's Cloud Run services, pushed by cdktf deploy gcp.",
      dependsOn: props.dependsOn,
    });
    this.host = `${props.region}-docker.pkg.dev`;
    // From the repository's attributes, so that pushing waits for the repository.
    this.path = `${this.host}/${this.repository.project}/${this.repository.repositoryId}`;

    const client = new DataGoogleClientConfig(this, "client");
    this.pushProvider = new DockerProvider(this, "push", {
      alias: "artifact_registry",
      registryAuth: [{ address: this.host, username: "oauth2accesstoken", password: client.accessToken }],
    });
  }
}
