import { Construct } from "constructs";
import { WEEK_DEFAULTS } from "../../config/defaults";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { renderStudentBundle, runtimeValues, type KubernetesObject, type StudentBundleProps } from "./manifests";

export interface StudentNamespaceProps extends Omit<StudentBundleProps, "secretName"> {
  /**
   * The value of every runtime value the services read, by variable name, as Terraform
   * expressions (a generated password's result, a sensitive variable): never literals.
   */
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * Conditions Terraform checks before it writes the Secret (a secrets file's problems).
   * @default - none
   */
  readonly preconditions?: ReadonlyArray<{ readonly condition: string; readonly errorMessage: string }>;
  /**
   * Refuse to destroy the namespace and the workspace's claim: deleting a namespace deletes every
   * claim in it, the database's too (database.protectVolume).
   * @default WEEK_DEFAULTS.database.protectVolume
   */
  readonly protect?: boolean;
}

/** The namespace's Secret: every runtime value of the bundle, by variable name. */
export const STUDENT_SECRET = "week-secrets";

/**
 * One student's namespace on a cluster: the objects of `renderStudentBundle`, each a
 * `kubernetes_manifest` (construct id `<kind>-<name>`, a contract like every construct id), and
 * the Secret that holds the student's runtime values (`kubernetes_secret_v1`, whose data the
 * provider treats as sensitive). Everything in the namespace waits for the namespace.
 */
export class StudentNamespace extends Construct {
  /** The objects, validated against the Kubernetes schemas, as the manifests carry them. */
  readonly objects: readonly KubernetesObject[];
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: StudentNamespaceProps) {
    super(scope, id);
    this.namespace = props.namespace;
    const { secrets: _secrets, preconditions: _preconditions, protect: _protect, ...bundle } = props;
    const protect = props.protect ?? WEEK_DEFAULTS.database.protectVolume;
    this.objects = renderStudentBundle({ ...bundle, secretName: STUDENT_SECRET });

    const needed = new Set(props.services.flatMap((s) => runtimeValues(s).filter((v) => v.required !== undefined).map((v) => v.variable)));
    for (const variable of needed) {
      if (props.secrets[variable] === undefined) {
        throw new Error(`${this.node.path}: secrets.${variable} is missing: a service of ${props.namespace} reads it`);
      }
    }
    for (const [variable, value] of Object.entries(props.secrets)) {
      if (!/^\$\{.+\}$/s.test(value)) {
        throw new Error(`${this.node.path}: secrets.${variable} must be a Terraform expression (a generated or sensitive value), not a literal`);
      }
    }

    const [namespace, ...rest] = this.objects;
    const namespaceManifest = new Manifest(this, "namespace", { manifest: namespace.toJSON() as Record<string, unknown>, lifecycle: { preventDestroy: protect } });
    const secret = new SecretV1(this, "secret", {
      metadata: { name: STUDENT_SECRET, namespace: props.namespace, labels: { course: props.course, student: props.student } },
      data: { ...props.secrets },
      dependsOn: [namespaceManifest],
      lifecycle: props.preconditions === undefined ? undefined : { precondition: props.preconditions.map((p) => ({ ...p })) },
    });
    for (const object of rest) {
      new Manifest(this, `${object.kind.toLowerCase()}-${object.metadata?.name ?? ""}`, {
        manifest: object.toJSON() as Record<string, unknown>,
        dependsOn: object.kind === "Deployment" || object.kind === "StatefulSet" ? [namespaceManifest, secret] : [namespaceManifest],
        lifecycle: object.kind === "PersistentVolumeClaim" ? { preventDestroy: protect } : undefined,
      });
    }
  }
}
