import * as path from "path";
import { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";
import { WORKLOADS } from "../paths";
import { BuildContext } from "../shared/build-context";
import { SANDBOX_CONTEXT } from "../shared/workload-contexts";
import { gitRepositoryUrlProblem, maskUrl } from "../../config/names";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface SandboxImageProps {
  /**
   * Pinned Ubuntu base. Tests substitute a local stand-in through the BASE_IMAGE build argument.
   * @default WEEK_DEFAULTS.sandbox.baseImage
   */
  readonly baseImage?: string;
  /**
   * Non-root user that runs Jupyter.
   * @default WEEK_DEFAULTS.sandbox.user
   */
  readonly user?: string;
  /** git user.name of that user. */
  readonly gitUserName: string;
  /** git user.email of that user. */
  readonly gitUserEmail: string;
  /**
   * Repository cloned into the workspace at start.
   * @default - nothing is cloned
   */
  readonly gitRepositoryUrl?: string;
  /**
   * Folder holding requirements.lock, entrypoint.sh and jupyter_server_config.py.
   * @default lambdas-src/sandbox
   */
  readonly runtimeDir?: string;
}

/** The port Jupyter listens on inside the sandbox, as the course asks. */
export const SANDBOX_PORT = 8000;
/**
 * The sandbox user's uid, fixed so that Kubernetes can check it is not root (runAsUser) and so that
 * volumes keep their owner: 1001, what useradd gave on ubuntu:24.04, whose `ubuntu` user holds 1000.
 */
export const SANDBOX_UID = 1001;
export const SANDBOX_VENV = "/opt/venv";

/** Quotes a value for a Dockerfile ENV line. */
function envValue(value: string): string {
  return JSON.stringify(value).replace(/\$/g, "\\$");
}

/** The TP1 Dockerfile, rendered from typed props. */
export function renderSandboxDockerfile(props: SandboxImageProps): string {
  const user = props.user ?? WEEK_DEFAULTS.sandbox.user;
  const home = `/home/${user}`;
  const lines = [
    "# The TP1 data-science sandbox, rendered by constructs/local/sandbox-image.ts: edit the props, not this file.",
    `ARG BASE_IMAGE=${props.baseImage ?? WEEK_DEFAULTS.sandbox.baseImage}`,
    "FROM ${BASE_IMAGE}",
    "",
    "# Settings first: they cost nothing here, while each step after the large layers copies the",
    "# whole image on storage drivers such as vfs.",
    `ENV VIRTUAL_ENV=${SANDBOX_VENV} PATH=${SANDBOX_VENV}/bin:$PATH WORKSPACE=${home}/workspace JUPYTER_PORT=${SANDBOX_PORT}`,
    `EXPOSE ${SANDBOX_PORT}`,
    `HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${SANDBOX_PORT}/api', timeout=4)"]`,
    'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/sandbox-entrypoint"]',
    "",
    "# PIP_INDEX_URL lets a build use a mirror of the package index (the legacy builder records it in the",
    "# history of the RUN steps that see it: never put credentials in it).",
    "ARG PIP_INDEX_URL=https://pypi.org/simple",
    "ARG DEBIAN_FRONTEND=noninteractive",
    "# openssh-client: git@host:path and ssh:// clones, with a key given at run time (GIT_SSH_KEY)",
    "RUN apt-get update \\",
    " && apt-get install -y --no-install-recommends python3 python3-pip python3-venv vim git openssh-client ca-certificates tini \\",
    " && rm -rf /var/lib/apt/lists/*",
    "",
    "# Ubuntu 24.04's system Python refuses pip installs (PEP 668): everything goes into a virtual",
    "# environment that the user owns, so that `pip install` (and %pip in a notebook) works as the user.",
    `RUN useradd --create-home --uid ${SANDBOX_UID} --shell /bin/bash ${user} \\`,
    ` && install -d -o ${user} -g ${user} ${SANDBOX_VENV} ${home}/workspace`,
    `USER ${user}`,
    `RUN python3 -m venv ${SANDBOX_VENV}`,
    "# requirements.lock (made by scripts/lock.sh from requirements.in): every package at its exact",
    "# version, checked against its hashes, wheels only.",
    `COPY --chown=${user}:${user} requirements.lock /tmp/requirements.lock`,
    "RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: -r /tmp/requirements.lock \\",
    " && rm /tmp/requirements.lock",
    "USER root",
  ];
  lines.push(
    "",
    "COPY entrypoint.sh jupyter_server_config.py /tmp/sandbox/",
    "RUN install -m 0755 /tmp/sandbox/entrypoint.sh /usr/local/bin/sandbox-entrypoint \\",
    " && install -D -m 0644 /tmp/sandbox/jupyter_server_config.py /etc/jupyter/jupyter_server_config.py \\",
    " && rm -rf /tmp/sandbox",
    "",
    "# The git identity is not secret; a credential, if any, comes at run time as GIT_TOKEN or",
    "# GIT_SSH_KEY, and DATABASE_URL too.",
    `ENV GIT_USER_NAME=${envValue(props.gitUserName)} \\`,
    `    GIT_USER_EMAIL=${envValue(props.gitUserEmail)} \\`,
    `    GIT_REPO_URL=${envValue(props.gitRepositoryUrl ?? "")}`,
    `USER ${user}`,
    `WORKDIR ${home}/workspace`,
    "",
  );
  return lines.join("\n");
}

/** The TP1 sandbox image, built from its rendered Dockerfile and `lambdas-src/sandbox`. */
export class SandboxImage extends Construct {
  readonly image: Image;
  readonly dockerfile: string;
  readonly context: BuildContext;
  readonly user: string;
  readonly workspace: string;

  constructor(scope: Construct, id: string, props: SandboxImageProps) {
    super(scope, id);
    if (props.gitUserName.trim() === "" || /[\r\n]/.test(props.gitUserName)) {
      throw new Error(`${this.node.path}: gitUserName must be a non-empty single line, got ${JSON.stringify(props.gitUserName)}`);
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(props.gitUserEmail)) {
      throw new Error(`${this.node.path}: gitUserEmail must be an e-mail address, got ${JSON.stringify(props.gitUserEmail)}`);
    }
    const urlProblem = props.gitRepositoryUrl === undefined ? undefined : gitRepositoryUrlProblem(props.gitRepositoryUrl);
    if (urlProblem !== undefined) {
      throw new Error(`${this.node.path}: gitRepositoryUrl ${urlProblem}, got ${JSON.stringify(maskUrl(props.gitRepositoryUrl ?? ""))}`);
    }
    if (props.user === "root") {
      throw new Error(`${this.node.path}: user must not be root, got "root"`);
    }
    this.user = props.user ?? WEEK_DEFAULTS.sandbox.user;
    this.workspace = `/home/${this.user}/workspace`;
    this.dockerfile = renderSandboxDockerfile(props);
    this.context = new BuildContext(this, "context", {
      source: props.runtimeDir ?? path.join(WORKLOADS, "sandbox"),
      include: SANDBOX_CONTEXT.admit,
      files: { Dockerfile: this.dockerfile },
    });
    this.image = new Image(this, "image", {
      name: `week-sandbox:${this.context.tag}`,
      keepLocally: false,
      buildAttribute: { context: this.context.path, dockerfile: "Dockerfile" },
      triggers: { context: this.context.hash },
    });
  }
}
