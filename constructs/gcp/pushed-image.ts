import { Construct } from "constructs";
import type { Image } from "@cdktf/provider-docker/lib/image";
import { RegistryImage } from "@cdktf/provider-docker/lib/registry-image";
import type { BuildContext } from "../shared/build-context";
import { buildWorkloadImage } from "../shared/workload-image";
import type { WorkloadContext } from "../shared/workload-contexts";
import type { ArtifactRepository } from "./artifact-repository";

export interface PushedImageProps {
  /** Folder of the workload, with its Dockerfile. */
  readonly source: string;
  /**
   * What the build context admits from the source (workload-contexts.ts).
   * @default - nothing but the build files (Dockerfile, heroku.yml)
   */
  readonly contents: WorkloadContext;
  /** Image name inside the repository (`api`, `streamlit`). */
  readonly name: string;
  readonly repository: ArtifactRepository;
  /**
   * Platform the image is built for; Cloud Run runs linux/amd64.
   * @default linux/amd64
   */
  readonly platform?: string;
  /** Files written into the staged build context on top of the source. @default - none */
  readonly contextFiles?: Readonly<Record<string, string>>;
}

/**
 * A workload image built by the local Docker daemon and pushed to Artifact Registry.
 *
 * The tag is the build context's hash, so a change in the sources builds and pushes a new
 * image; `ref` names it by digest, so Cloud Run rolls a new revision exactly when the
 * pushed image changes. Pushed images are kept when replaced: a revision still serving
 * traffic may need to start a new instance from its image.
 */
export class PushedImage extends Construct {
  readonly context: BuildContext;
  readonly image: Image;
  readonly pushed: RegistryImage;
  /** `<repository>/<name>@sha256:...`, what Cloud Run should run. */
  readonly ref: string;

  constructor(scope: Construct, id: string, props: PushedImageProps) {
    super(scope, id);
    if (!/^[a-z0-9]+([._-][a-z0-9]+)*$/.test(props.name)) {
      throw new Error(`${this.node.path}: name must be a lowercase image name such as api, got ${JSON.stringify(props.name)}`);
    }
    const repositoryImage = `${props.repository.path}/${props.name}`;
    ({ context: this.context, image: this.image } = buildWorkloadImage(this, {
      source: props.source,
      contents: props.contents,
      repository: repositoryImage,
      platform: props.platform ?? "linux/amd64",
      files: props.contextFiles,
    }));
    this.pushed = new RegistryImage(this, "pushed", {
      provider: props.repository.pushProvider,
      name: this.image.name,
      keepRemotely: true,
      // A rebuilt image (same tag, new id) is pushed again.
      triggers: { image_id: this.image.imageId },
    });
    this.ref = `${repositoryImage}@${this.pushed.sha256Digest}`;
  }
}
