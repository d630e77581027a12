import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import type { Image } from "@cdktf/provider-docker/lib/image";
import { RegistryImage } from "@cdktf/provider-docker/lib/registry-image";
import { Tag } from "@cdktf/provider-docker/lib/tag";
import { Password } from "@cdktf/provider-random/lib/password";
import { readDatabaseEnv } from "../local/database-env";
import { SANDBOX_UID } from "../local/sandbox-image";
import { fromStackDir } from "../paths";

/**
 * The numeric user of each image, which Kubernetes needs to check it is not root (an image's
 * `USER name` cannot be checked by name). A test reads each Dockerfile and keeps these equal.
 */
export const KUBERNETES_IMAGE_USERS: Readonly<Record<string, number>> = {
  // the official PostgreSQL image's postgres user
  database: 999,
  sandbox: SANDBOX_UID,
  // lambdas-src/api/Dockerfile and lambdas-src/streamlit/Dockerfile: useradd --uid 10001
  api: 10001,
  streamlit: 10001,
};

export interface PushedClassImageProps {
  /** The image built on this machine. */
  readonly image: Image;
  /** Repository to push to (`registry.example.org/course/api`). */
  readonly repository: string;
}

/**
 * A class image tagged for the class's registry and pushed there; `ref` names it by digest, so a
 * rebuilt image rolls every student's pods and an unchanged one none.
 */
export class PushedClassImage extends Construct {
  readonly ref: string;

  constructor(scope: Construct, id: string, props: PushedClassImageProps) {
    super(scope, id);
    // the built image's tag is its context's hash: keep it
    const target = `${props.repository}:${Fn.element(Fn.split(":", props.image.name), 1)}`;
    const tag = new Tag(this, "tag", { sourceImage: props.image.imageId, targetImage: target });
    const pushed = new RegistryImage(this, "pushed", {
      name: tag.targetImage,
      keepRemotely: true,
      triggers: { image_id: props.image.imageId },
    });
    this.ref = `${props.repository}@${pushed.sha256Digest}`;
  }
}

export interface StudentSecretValuesProps {
  /** The student's secret files of the classroom, relative to the project root. */
  readonly files: { readonly databaseEnv: string; readonly jupyterToken: string };
  /** POSTGRES_USER and POSTGRES_DB when the file does not set them. */
  readonly user: string;
  readonly database: string;
}

/**
 * A student's runtime values read from the classroom's secret files at plan time, as Terraform
 * expressions by variable name: database.env is read as the classroom stack reads it (and refused
 * the same way, `precondition`), the Jupyter token from its file.
 */
export class StudentSecretValues extends Construct {
  readonly values: Readonly<Record<string, string>>;
  readonly precondition: { readonly condition: string; readonly errorMessage: string };

  constructor(scope: Construct, id: string, props: StudentSecretValuesProps) {
    super(scope, id);
    const fallback = new Password(this, "password", { length: 32, special: false });
    const env = readDatabaseEnv(this, {
      path: fromStackDir(props.files.databaseEnv),
      user: props.user,
      database: props.database,
      generatedPassword: `${fallback.terraformResourceType}.${fallback.friendlyUniqueId}.result`,
    });
    const tokenPath = new TerraformLocal(this, "jupyter_token_path", fromStackDir(props.files.jupyterToken));
    this.values = {
      POSTGRES_USER: env.user,
      POSTGRES_PASSWORD: env.password,
      POSTGRES_DB: env.database,
      JUPYTER_TOKEN: Fn.sensitive(Fn.trimspace(Fn.file(tokenPath.asString))),
    };
    this.precondition = env.precondition;
  }
}
