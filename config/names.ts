/**
 * Values that end up in an argv, a git configuration, a Dockerfile or a shell: git identities,
 * repository URLs. They must not carry control or invisible characters (a line break starts a
 * new instruction, a bidi control hides what a reviewer reads), must not look like an option
 * (`-oProxyCommand=...` is read by ssh and git as one), and a URL must not carry credentials.
 * An error never shows a credential: URLs are shown with the secret parts masked.
 */

/** Control (Cc), format (Cf: zero-width, bidi, BOM, soft hyphen), lone surrogates (Cs), private use (Co), line and paragraph separators, and invisible fillers. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180E\u2800\u3164\uFE00-\uFE0F\uFFA0]/u;

/** Why a name that reaches git, a shell or Docker is unsafe, or undefined. */
export function unsafeNameProblem(value: string): string | undefined {
  const bad = INVISIBLE.exec(value);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) ?? 0;
    return `must not contain control or invisible characters (U+${code.toString(16).toUpperCase().padStart(4, "0")} at position ${bad.index + 1})`;
  }
  if (/^\s*-/.test(value)) return "must not start with a dash (it would be read as an option)";
  return undefined;
}

/** Query parameters that carry credentials: tokens, signatures, keys, passwords, cloud presigned URLs. */
const CREDENTIAL_PARAM = /^(.*token.*|.*secret.*|.*passw(or)?d.*|pwd|pass|auth.*|.*api[-_]?key.*|key|access[-_]?key.*|sig|signature|credential.*|x-amz-.*|x-goog-.*|sv|se|sp|skoid|sktid|code|session.*)$/i;

/** The URL with its userinfo and credential-like query values replaced by `***`. */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)@/, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return scheme === "ssh://" && colon < 0 && /^[a-z_][a-z0-9_.-]*$/i.test(userinfo) ? `${scheme}${userinfo}@` : `${scheme}***@`;
    })
    .replace(/([?&])([^=&#]*)=([^&#]*)/g, (m, sep: string, name: string) => (CREDENTIAL_PARAM.test(decodeSafe(name)) ? `${sep}${name}=***` : m));
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Why a git remote URL is refused, or undefined. The message never holds the URL's secrets. */
export function gitRepositoryUrlProblem(url: string): string | undefined {
  const unsafe = unsafeNameProblem(url);
  if (unsafe !== undefined) return unsafe;
  const scp = /^git@([^:/\s]+):(.+)$/.exec(url);
  if (scp !== null) {
    if (scp[1].startsWith("-")) return "must not have a host that starts with a dash";
    return scp[2].startsWith("-") ? "must not have a path that starts with a dash" : undefined;
  }
  const m = /^(https|ssh|file):\/\/([^/?#]*)(.*)$/.exec(url);
  if (m === null) return "must be an https://, ssh://, git@host:path or file:// URL";
  if (/\s/.test(url)) return "must not contain spaces";
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf("@");
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const host = at < 0 ? authority : authority.slice(at + 1);
  if (userinfo !== undefined && (scheme !== "ssh" || userinfo.includes(":") || !/^[a-z_][a-z0-9_.-]*$/i.test(userinfo))) {
    return "must not contain a user, password or token; give a token as TF_VAR_git_token at deploy time";
  }
  if (scheme !== "file" && (host === "" || host.startsWith("-"))) return "must name a host that does not start with a dash";
  const query = /\?([^#]*)/.exec(rest)?.[1];
  for (const pair of query === undefined ? [] : query.split("&")) {
    const name = decodeSafe(pair.split("=")[0]);
    if (CREDENTIAL_PARAM.test(name)) return `must not carry a token in its query (${name}); give it as TF_VAR_git_token at deploy time`;
  }
  return undefined;
}
