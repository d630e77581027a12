/**
 * What a Docker build context may hold: what the folder's `.dockerignore` admits (Docker's own
 * matching, through @balena/dockerignore), and never a file that holds secrets, whatever
 * `.dockerignore` says (a `!` exception does not bring one back).
 */
import * as fs from "fs";
import * as path from "path";
import dockerignore from "@balena/dockerignore";

/** Folders whose content is credentials or history: never in a context. */
const SECRET_DIRS = new Set([".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure", ".git", ".terraform", ".gcloud"]);

/**
 * File names that hold secrets: env files (templates ending `.example`, `.sample` or
 * `.template` are fine), secrets files, private keys and certificates with keys, credential
 * stores, Terraform state and variables.
 */
const SECRET_FILES: RegExp[] = [
  /^\.env$/i,
  /^\.env\..+$/i,
  /^.+\.env$/i,
  /^.+\.env\..+$/i,
  /^\.?secrets?(\..+)?$/i,
  /^.+\.secrets?$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?(\..*)?$/i,
  /\.(pem|key|p12|pfx|jks|keystore|ppk|p8|der|crt-key|kdbx)$/i,
  /^[._]netrc$/i,
  /^\.pgpass$/i,
  /^\.git-credentials$/i,
  /^\.npmrc$/i,
  /^\.pypirc$/i,
  /^\.dockercfg$/i,
  /^\.htpasswd$/i,
  /^(credentials|client_secrets?.*|service[-_]?account.*|.*[-_]sa[-_]key.*|application_default_credentials)\.json$/i,
  /^kubeconfig$/i,
  /^\.envrc$/i,
  /^credentials(\.(ya?ml|toml|ini|txt|cfg|conf|xml|csv))?$/i,
  /^\.(s3cfg|boto|passwd-s3fs)$/i,
  /\.ovpn$/i,
  /^(secring|private)\.gpg$/i,
  /\.(tfstate|tfstate\.backup|tfvars|tfvars\.json)$/i,
];
const TEMPLATE = /\.(example|sample|template|dist)$/i;

/** Text that marks a private key or a Google service account key, whatever the file's name. */
const SECRET_CONTENT = /-----BEGIN [A-Z ]*PRIVATE KEY-----|"type"\s*:\s*"service_account"[\s\S]*"private_key"|"private_key"\s*:\s*"-----BEGIN/;
const SNIFF_BYTES = 1024 * 1024;

/** Why a path (relative, POSIX) must never be in a build context, or undefined. */
export function secretReason(relative: string, absolute?: string): string | undefined {
  const parts = relative.split("/");
  const dir = parts.slice(0, -1).find((p) => SECRET_DIRS.has(p));
  if (dir !== undefined) return `it is inside ${dir}/`;
  const name = parts.at(-1) ?? "";
  if (SECRET_DIRS.has(name)) return `${name}/ holds credentials`;
  if (parts.length >= 2 && parts.at(-2) === ".streamlit" && name === "secrets.toml") return "it is Streamlit's secrets file";
  if (parts.length >= 2 && parts.at(-2) === "gcloud") return "it is inside gcloud/";
  if (!TEMPLATE.test(name) && SECRET_FILES.some((p) => p.test(name))) return "its name is one of a secret file";
  if (absolute !== undefined) {
    const stat = fs.lstatSync(absolute);
    if (stat.isFile()) {
      const fd = fs.openSync(absolute, "r");
      try {
        const buffer = Buffer.alloc(Math.min(stat.size, SNIFF_BYTES));
        fs.readSync(fd, buffer, 0, buffer.length, 0);
        if (SECRET_CONTENT.test(buffer.toString("latin1"))) return "it holds a private key";
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  return undefined;
}

/** Files Docker and Heroku need whatever `.dockerignore` says (Docker sends them too). */
const ALWAYS_SENT = new Set(["Dockerfile", ".dockerignore", "heroku.yml"]);

export interface ContextFile {
  /** POSIX path relative to the source. */
  readonly relative: string;
  readonly absolute: string;
}

export interface ContextSelection {
  readonly files: ContextFile[];
  /** Paths left out because they hold secrets, with why (never their content). */
  readonly secrets: Array<{ relative: string; reason: string }>;
}

/**
 * The files of `source` a build context takes: under each of `roots` (relative paths, `.` for
 * all), admitted by `.dockerignore`, not generated (`isGenerated`), not a secret, not a symlink.
 */
export function selectContextFiles(source: string, roots: string[], isGenerated: (name: string) => boolean): ContextSelection {
  const ignoreFile = path.join(source, ".dockerignore");
  const matcher = dockerignore({ ignorecase: false });
  if (fs.existsSync(ignoreFile)) matcher.add(fs.readFileSync(ignoreFile, "utf8").split(/\r?\n/));
  const files: ContextFile[] = [];
  const secrets: Array<{ relative: string; reason: string }> = [];
  const visit = (relative: string) => {
    const absolute = path.join(source, relative);
    const stat = fs.lstatSync(absolute);
    const name = path.posix.basename(relative);
    if (relative !== "." && isGenerated(name)) return;
    const why = relative === "." ? undefined : secretReason(relative, stat.isFile() ? absolute : undefined);
    if (why !== undefined) {
      secrets.push({ relative, reason: why });
      return;
    }
    if (stat.isSymbolicLink()) return; // Docker sends links as links; a link may point anywhere on the machine
    if (stat.isDirectory()) {
      for (const child of fs.readdirSync(absolute).sort()) visit(relative === "." ? child : `${relative}/${child}`);
      return;
    }
    if (!stat.isFile()) return;
    if (ALWAYS_SENT.has(relative) || !matcher.ignores(relative)) files.push({ relative, absolute });
  };
  for (const root of roots) visit(path.posix.normalize(root.split(path.sep).join("/")));
  return { files, secrets };
}
