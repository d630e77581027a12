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

/**
 * Query parameters a git URL may carry, by allow-list: the ref to check out, with a ref-like
 * value. Anything else in a query, and any fragment, may be a token (`?private_token=`, `?sig=`,
 * `#access_token=`) and is refused; git itself reads neither.
 */
const SAFE_GIT_PARAMS = new Set(["ref", "branch", "tag", "rev"]);
const REF_VALUE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/**
 * The URL with its userinfo, credential-like query values and fragment replaced by `***`
 * (query values whose name is a ref are kept).
 */
export function maskUrl(url: string): string {
  const hash = url.indexOf("#");
  const body = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.length > hash + 1 ? "#***" : "#";
  return body
    .replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)@/, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return scheme === "ssh://" && colon < 0 && /^[a-z_][a-z0-9_.-]*$/i.test(userinfo) ? `${scheme}${userinfo}@` : `${scheme}***@`;
    })
    .replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (m, sep: string, name: string, value: string) => {
      const decoded = decodeSafe(name).toLowerCase();
      return CREDENTIAL_PARAM.test(decoded) || !(SAFE_GIT_PARAMS.has(decoded) && REF_VALUE.test(decodeSafe(value))) ? `${sep}${name}=***` : m;
    })
    .concat(fragment);
}

/** Why a git URL's query and fragment are refused (allow-list above), or undefined. */
function queryProblem(rest: string): string | undefined {
  if (rest.includes("#")) return "must not have a #fragment (git reads none; a token hides there, as in #access_token=); give a token as TF_VAR_git_token at deploy time";
  const q = rest.indexOf("?");
  if (q < 0) return undefined;
  for (const pair of rest.slice(q + 1).split(/[&;]/)) {
    const eq = pair.indexOf("=");
    const name = decodeSafe(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeSafe(pair.slice(eq + 1));
    if (CREDENTIAL_PARAM.test(name)) return `must not carry a token in its query (${name}); give it as TF_VAR_git_token at deploy time`;
    if (!SAFE_GIT_PARAMS.has(name.toLowerCase()) || !REF_VALUE.test(value)) {
      return `must not carry the query parameter ${JSON.stringify(name.slice(0, 40))} (only ${[...SAFE_GIT_PARAMS].join(", ")}, with a branch or tag name); give a token as TF_VAR_git_token at deploy time`;
    }
  }
  return undefined;
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
    if (scp[2].startsWith("-")) return "must not have a path that starts with a dash";
    return queryProblem(scp[2]);
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
  return queryProblem(rest);
}
