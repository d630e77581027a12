/**
 * When an image reference is pinned, by allow-list of what a release looks like. A digest
 * (`name@sha256:...`) is the only immutable reference; a tag counts as pinned when it names a
 * full release and nothing else:
 *
 *   tag      := release ( ("-" | "_" | ".") variant )*
 *   release  := ["v"] major "." minor ("." n)*            17.6, 24.04, 3.11.9, v1.2.3
 *             | codename "-" YYYYMMDD ["." n]               noble-20240904.1
 *   variant  := a distribution, libc, flavour or platform word of VARIANTS (bookworm, slim,
 *               alpine3.20, musl, jdk, amd64...), a date (20240904) or a build number
 *
 * Anything else moves or cannot be read: a major alone (`17`, `17-bookworm`), a channel in any
 * position (`latest`, `17.6-latest`, `3.14-rc-slim`, `1.2.3-beta`, `edge`, `nightly`, `dev`,
 * `preview`, `snapshot`, `canary`, `testing`, `unstable`...), a pre-release glued to the number
 * (`3.14.0rc1`, `2.0.0b1`), a word the list does not hold, or no tag at all. Two-number releases
 * are accepted because PostgreSQL (17.6) and Ubuntu (24.04) number their releases that way; a
 * digest is what to use where that residual drift matters.
 */
import { isExpression, show } from "./value";

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const RELEASE = /^v?\d+\.\d+(\.\d+)*$/;
const CODENAME_DATE = /^[a-z]+-\d{8}(\.\d+)?$/;
/** Variant words a release tag may carry (lower case), beside dates and build numbers. */
const VARIANTS = new RegExp(
  "^(" +
    [
      // distributions and their releases
      "bookworm", "bullseye", "buster", "trixie", "stretch", "noble", "jammy", "focal", "bionic", "alpine(\\d+(\\.\\d+)*)?", "ubuntu(\\d+(\\.\\d+)*)?", "debian(\\d+)?", "ubi(\\d+)?", "oraclelinux\\d*", "al2023", "windowsservercore", "nanoserver", "ltsc\\d{4}",
      // image flavours
      "slim", "minimal", "musl", "glibc", "uclibc", "jdk", "jre", "fpm", "apache", "cli", "zts", "runtime", "cudnn\\d*", "cuda\\d+(\\.\\d+)*", "gpu", "cpu", "headless",
      // platforms
      "amd64", "arm64", "arm64v8", "armv7", "x86_64", "aarch64",
    ].join("|") +
    ")$",
);
/** Channels: words that name a moving target; named in messages (the allow-list refuses them anyway). */
const CHANNELS = /^(latest|stable|rolling|edge|lts|current|nightly|daily|weekly|dev|devel|develop|development|main|master|trunk|head|beta\d*|alpha\d*|rc\d*|pre|preview|snapshot|canary|next|testing|test|unstable|experimental|insider|mainline|sid)$/i;

/** The tag of a reference (`postgres:17.6-bookworm` -> `17.6-bookworm`), or undefined when untagged. */
export function tagOf(ref: string): string | undefined {
  const withoutDigest = ref.replace(/@.*$/, "");
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

/** Why a tag does not name a release, or undefined when it does (see the grammar above). */
export function tagProblem(tag: string): string | undefined {
  const channel = tag.split(/[-_.]/).find((word) => CHANNELS.test(word));
  if (channel !== undefined) return `its tag ${tag} holds the channel ${channel}, which moves`;
  if (tag !== tag.toLowerCase() && /[a-z]/i.test(tag)) return `its tag ${tag} is not a release tag (upper case)`;
  const dated = /^([a-z]+-\d{8}(?:\.\d+)?)((?:[-_][a-z0-9.]+)*)$/.exec(tag);
  const release = /^(v?\d+\.\d+(?:\.\d+)*)((?:[-_][a-z0-9.]+)*)$/.exec(tag);
  const match = release ?? dated;
  if (match === null || !(RELEASE.test(match[1]) || CODENAME_DATE.test(match[1]))) {
    if (/^v?\d+([-_].*)?$/.test(tag)) return `its tag ${tag} names a major version only`;
    return `its tag ${tag} is not a release number (major.minor at least) or a digest`;
  }
  const words = match[2].split(/[-_]/).filter((w) => w !== "");
  for (const word of words) {
    if (VARIANTS.test(word) || /^\d{8}(\.\d+)?$/.test(word) || /^\d{1,4}$/.test(word)) continue;
    return `its tag ${tag} has ${word}, which is not a release variant the pack knows (a distribution, a flavour, a date)`;
  }
  return undefined;
}

/** Why a literal reference is not pinned, or undefined when it is. */
export function unpinnedReason(ref: string): string | undefined {
  if (DIGEST.test(ref) || /^sha256:[a-f0-9]{64}$/.test(ref)) return undefined; // a digest, or an image id
  if (ref.includes("@")) return "its digest is not a sha256 digest";
  const tag = tagOf(ref);
  if (tag === undefined || tag === "") return "it has no tag";
  return tagProblem(tag);
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
