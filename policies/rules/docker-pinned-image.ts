import { declares, resources, type TerraformDocument } from "../document";
import type { Finding, PolicyRule } from "../rule";
import { imageProblem, PIN_FIX } from "../image-ref";
import { isExpression } from "../value";
import { RULE_IDS } from "../rule-ids";

/**
 * Why an image reference in the document is not provably pinned, or undefined. A reference
 * to another resource is accepted when the document declares that resource: the image id or
 * name of a `docker_image` (judged itself) or the digest of a pushed `docker_registry_image`.
 */
export function imageReferenceProblem(doc: TerraformDocument, ref: unknown): string | undefined {
  if (typeof ref === "string" && isExpression(ref)) {
    const whole = /^\$\{docker_image\.([\w-]+)\.(image_id|name|repo_digest)\}$/.exec(ref);
    if (whole !== null && declares(doc, "docker_image", whole[1])) return undefined;
    const digest = /@\$\{docker_registry_image\.([\w-]+)\.sha256_digest\}$/.exec(ref);
    if (digest !== null && declares(doc, "docker_registry_image", digest[1])) return undefined;
  }
  return imageProblem(ref);
}

/** WEEK-DOCKER-001: every image is pinned to a full release or a digest. */
export const dockerPinnedImage: PolicyRule = {
  id: RULE_IDS.dockerPinnedImage,
  statement: "Every image is pinned to a full release (major.minor at least) or a digest, never a major, a channel or latest.",
  check(doc): Finding[] {
    const refs: Array<{ path: string; ref: unknown }> = [];
    for (const r of resources(doc, "docker_image", "docker_container", "google_cloud_run_v2_service", "google_cloud_run_service")) {
      if (r.type === "docker_image") {
        // A built image's name is the tag it is given, not what it is pulled from: its Dockerfile is judged instead.
        if (r.config.build === undefined) refs.push({ path: r.path, ref: r.config.name });
      } else if (r.type === "docker_container") {
        refs.push({ path: r.path, ref: r.config.image });
      } else {
        const template = (Array.isArray(r.config.template) ? r.config.template[0] : r.config.template) as Record<string, unknown> | undefined;
        const spec = r.type === "google_cloud_run_service" ? ((template?.spec as Record<string, unknown> | undefined) ?? {}) : (template ?? {});
        if (spec.dynamic !== undefined || template?.dynamic !== undefined || r.config.dynamic !== undefined) refs.push({ path: r.path, ref: "${dynamic}" });
        const containers = spec.containers;
        if (containers !== undefined && !Array.isArray(containers) && typeof containers !== "object") refs.push({ path: r.path, ref: containers });
        for (const c of (Array.isArray(containers) ? containers : containers === undefined ? [] : [containers]) as Array<Record<string, unknown>>) {
          refs.push({ path: r.path, ref: c.image });
        }
      }
    }
    return refs.flatMap(({ path, ref }) => {
      const problem = imageReferenceProblem(doc, ref);
      return problem === undefined ? [] : [{ path, message: problem, fix: PIN_FIX }];
    });
  },
};
