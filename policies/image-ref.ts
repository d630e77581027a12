/**
 * When an image reference is pinned. A digest (`name@sha256:...`) is the only immutable
 * reference; a tag counts as pinned when it names a full release: at least major.minor
 * (`17.6`, `24.04`, `3.11.9`), optionally `v`-prefixed and followed by a variant
 * (`17.6-bookworm`, `3.11-slim-bookworm`, `1.37.0-musl`), or a distribution codename with a
 * date (`noble-20240904`). A major alone (`17`, `17-bookworm`, `3-slim`), a channel (`latest`,
 * `LATEST`, `stable`, `rolling`, `edge`, `lts`, `nightly`, `noble`) or no tag at all is
 * mutable. Two-number releases are accepted because PostgreSQL (17.6) and Ubuntu (24.04)
 * number their releases that way; a digest is what to use where that residual drift matters.
 */
import { isExpression, show } from "./value";

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const CHANNELS = /^(latest|stable|rolling|edge|lts|current|nightly|dev|devel|main|master|beta|alpha|rc|next|testing|unstable|mainline)$/i;
const RELEASE = /^v?\d+\.\d+(\.\d+)*([-_+.][A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const DATED = /^[a-z][a-z0-9]*-(\d{8})(\.\d+)?([-_][A-Za-z0-9._-]+)?$/;

/** The tag of a reference (`postgres:17.6-bookworm` -> `17.6-bookworm`), or undefined when untagged. */
export function tagOf(ref: string): string | undefined {
  const withoutDigest = ref.replace(/@.*$/, "");
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

/** Why a literal reference is not pinned, or undefined when it is. */
export function unpinnedReason(ref: string): string | undefined {
  if (DIGEST.test(ref) || /^sha256:[a-f0-9]{64}$/.test(ref)) return undefined; // a digest, or an image id
  if (ref.includes("@")) return "its digest is not a sha256 digest";
  const tag = tagOf(ref);
  if (tag === undefined || tag === "") return "it has no tag";
  if (CHANNELS.test(tag.split(/[-_]/)[0])) return `its tag ${tag} is a channel that moves`;
  if (RELEASE.test(tag) || DATED.test(tag)) return undefined;
  if (/^v?\d+([-_].*)?$/.test(tag)) return `its tag ${tag} names a major version only`;
  return `its tag ${tag} is not a release number (major.minor at least) or a digest`;
}

export function isPinnedReference(ref: string): boolean {
  return unpinnedReason(ref) === undefined;
}

/** How to pin an image, for findings. */
export const PIN_FIX = "name an exact release (postgres:17.6-bookworm) or a digest (name@sha256:...), never a major, a channel or latest";

/**
 * Why an image reference is not provably pinned, or undefined: a literal is judged by
 * `unpinnedReason`; an expression (Terraform's `${...}`, a Compose variable) is unknown, hence a
 * problem, unless the caller proves it first (a reference to an image the document declares).
 */
export function imageProblem(ref: unknown): string | undefined {
  if (typeof ref !== "string") return `the image ${show(ref)} is not a reference the rule can read`;
  if (isExpression(ref)) return `image ${show(ref)} is an expression the rule cannot prove pinned`;
  const why = unpinnedReason(ref);
  return why === undefined ? undefined : `image ${JSON.stringify(ref)} is not pinned: ${why}`;
}
