import * as fs from "fs";
import * as path from "path";
import type { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";
import { BuildContext } from "./build-context";
import type { WorkloadContext } from "./workload-contexts";

export interface WorkloadImageProps {
  /** Folder of the workload, with its Dockerfile. */
  readonly source: string;
  /** What the context admits: the sources the Dockerfile copies (workload-contexts.ts). */
  readonly contents: WorkloadContext;
  /** Image name without the tag (`week-api`, `<registry>/<repository>/api`). */
  readonly repository: string;
  /**
   * Platform to build for.
   * @default - the Docker daemon's own
   */
  readonly platform?: string;
  /**
   * Files written into the staged context on top of the source (see BuildContext).
   * @default - none
   */
  readonly files?: Readonly<Record<string, string>>;
}

export interface WorkloadImage {
  readonly context: BuildContext;
  readonly image: Image;
}

/**
 * Builds a workload's own Dockerfile from a staged copy of its folder, tagged with the copy's
 * hash, so a change in the sources builds a new image. Adds `context` and `image` to `scope`.
 */
export function buildWorkloadImage(scope: Construct, props: WorkloadImageProps): WorkloadImage {
  if (!fs.existsSync(path.join(props.source, "Dockerfile"))) {
    throw new Error(`${scope.node.path}: source must hold a Dockerfile, got ${JSON.stringify(props.source)}`);
  }
  const context = new BuildContext(scope, "context", {
    source: props.source,
    include: props.contents?.admit,
    archives: props.contents?.archives,
    files: props.files,
  });
  const image = new Image(scope, "image", {
    name: `${props.repository}:${context.tag}`,
    keepLocally: false,
    buildAttribute: {
      context: context.path,
      dockerfile: "Dockerfile",
      ...(props.platform === undefined ? {} : { platform: props.platform }),
    },
    triggers: { context: context.hash },
  });
  return { context, image };
}
