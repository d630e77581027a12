import { blocks, resourceOf, type Finding, type PolicyRule } from "../rule";

/** True when an image reference has a tag other than latest, or a digest. */
export function isPinnedReference(ref: string): boolean {
  if (ref.includes("${")) return true; // an image id or digest computed by Terraform
  if (/@sha256:[a-f0-9]{64}$/.test(ref)) return true;
  const tag = /:([^/:@]+)$/.exec(ref)?.[1];
  return tag !== undefined && tag !== "latest";
}

/** WEEK-DOCKER-001: every image is pinned to a tag other than latest, or a digest. */
export const dockerPinnedImage: PolicyRule = {
  id: "WEEK-DOCKER-001",
  statement: "Every image is pinned to a tag other than latest, or to a digest.",
  check(node): Finding[] {
    const found = resourceOf(node, "docker_image", "docker_container", "google_cloud_run_v2_service");
    if (found === undefined) return [];
    const refs: string[] =
      found.type === "docker_image"
        ? [found.config.name as string]
        : found.type === "docker_container"
          ? [found.config.image as string]
          : blocks((found.config.template as { containers?: unknown } | undefined)?.containers).map((c) => c.image as string);
    return refs
      .filter((ref) => typeof ref === "string" && !isPinnedReference(ref))
      .map((ref) => ({
        message: `image ${JSON.stringify(ref)} is not pinned`,
        fix: "name an exact tag (postgres:17.6-bookworm) or a digest (name@sha256:...), never latest",
      }));
  },
};
