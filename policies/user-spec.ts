/**
 * A container's user as the engine reads it. Docker (moby/sys/user, the code runc uses) splits
 * `user[:group]` at the first colon; a user part that Go's `strconv.Atoi` accepts is a uid:
 * `0`, `00`, `+0` and `-0` are all uid 0 (root); any other part is a name looked up in the
 * image's /etc/passwd (`root` is uid 0; `0x0` is a name, not hexadecimal). Deny by default:
 * a user is accepted only when it is a positive decimal uid or a plain lower-case user name
 * other than root; anything else (a sign, spaces, an empty part, upper case, other characters)
 * is not provably non-root. Checked on a Docker engine: `--user=+0`, `-0`, `00` and `0:0` run as
 * uid=0(root); `0x0` and ` 0` are looked up as names; `-1` is refused (out of range).
 */

/** What Go's strconv.Atoi reads: an optional sign and decimal digits (leading zeros allowed). */
const ATOI = /^[+-]?\d+$/;
/** A user or group name as useradd accepts it by default (NAME_REGEX): lower case, digits, `_`, `-`, an optional final `$`. */
const NAME = /^[a-z_][a-z0-9_-]*\$?$/;

/** Why `spec` (a container's `user`, a Dockerfile's resolved `USER`) is not provably a non-root user, or undefined. */
export function userProblem(spec: string): string | undefined {
  const colon = spec.indexOf(":");
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? undefined : spec.slice(colon + 1);
  if (user === "") return `the user part of ${JSON.stringify(spec)} is empty, so the image's default (root unless it says otherwise) applies`;
  if (ATOI.test(user)) {
    const uid = Number(user);
    if (uid === 0) return `${JSON.stringify(spec)} is uid 0 (root) as the engine reads it`;
    if (uid < 0 || !/^[1-9]\d*$/.test(user)) return `${JSON.stringify(spec)} is not a plain positive uid`;
  } else if (user === "root" || user.toLowerCase() === "root") {
    return `${JSON.stringify(spec)} is root`;
  } else if (!NAME.test(user)) {
    return `${JSON.stringify(user)} is neither a positive uid nor a plain user name`;
  }
  if (group !== undefined && !(/^[1-9]\d*$/.test(group) || /^0$/.test(group) || NAME.test(group))) return `the group ${JSON.stringify(group)} is neither a plain gid nor a group name`;
  return undefined;
}
