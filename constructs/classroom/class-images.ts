import * as path from "path";
import { Construct } from "constructs";
import { apiImageProps } from "../local/api-service";
import { SandboxImage, type SandboxImageProps } from "../local/sandbox-image";
import type { ModelConfig } from "../shared/model-training";
import { buildWorkloadImage } from "../shared/workload-image";
import { STREAMLIT_CONTEXT } from "../shared/workload-contexts";
import { WORKLOADS } from "../paths";
import type { ClassImages, ClassroomService } from "./student-bundle";

export interface ClassImagesProps {
  readonly sandbox: SandboxImageProps;
  /** What the API image trains on. @default - the sample */
  readonly model?: ModelConfig;
  /** The services of the class: the API and Streamlit images are built only when asked for. */
  readonly services: readonly ClassroomService[];
}

/**
 * The images every student of the class runs, built once (construct ids `sandbox_image`,
 * `api_image`, `streamlit_image` under `scope`): the classroom stack runs them on the engine,
 * the Kubernetes stack pushes them to the class's registry.
 */
export function buildClassImages(scope: Construct, props: ClassImagesProps): ClassImages {
  return {
    sandbox: new SandboxImage(scope, "sandbox_image", props.sandbox),
    ...(props.services.includes("api") ? { api: buildWorkloadImage(new Construct(scope, "api_image"), apiImageProps(props.model)) } : {}),
    ...(props.services.includes("streamlit")
      ? { streamlit: buildWorkloadImage(new Construct(scope, "streamlit_image"), { source: path.join(WORKLOADS, "streamlit"), contents: STREAMLIT_CONTEXT, repository: "week-streamlit" }) }
      : {}),
  };
}
