import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { Student } from "../config/roster";
import type { WeekConfig } from "../config/schema";
import { buildClassImages } from "../constructs/classroom/class-images";
import { jupyterBaseUrl } from "../constructs/classroom/nginx-conf";
import { studentPrefix } from "../constructs/classroom/student-bundle";
import { KUBERNETES_IMAGE_USERS, PushedClassImage, StudentSecretValues } from "../constructs/kubernetes/class-cluster";
import type { KubernetesServiceSettings } from "../constructs/kubernetes/manifests";
import { StudentNamespace } from "../constructs/kubernetes/student-namespace";
import type { LocalService } from "../constructs/local/local-service";
import { postgresDataPath } from "../constructs/local/postgres-service";
import { addStateBackend } from "./state";
import { studentSecretFiles } from "../tools/classroom/secrets";

export interface ClassroomKubernetesStackProps {
  readonly config: WeekConfig;
  /** Each student and their services, as the classroom stack describes them (one model, several renderings). */
  readonly bundles: ReadonlyArray<{ readonly student: Student; readonly services: readonly LocalService[] }>;
}

/**
 * `npx cdktf deploy classroom-k8s`: the class on the cluster of the kubeconfig, a namespace per
 * student, rendered from the same roster and service descriptions as the classroom stack. The
 * class's images are built here and pushed to `classroom.kubernetes.registry`; the cluster pulls
 * them by digest. Each student's secrets are the classroom's own files (state/classroom/), read
 * at plan time, so a student has the same token and password on both targets.
 */
export class ClassroomKubernetesStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ClassroomKubernetesStackProps) {
    super(scope, id);
    const { config } = props;
    const klass = config.classroom;
    const k8s = klass.kubernetes;
    if (k8s === undefined) throw new Error(`${this.node.path}: classroom.kubernetes must be set for the Kubernetes stack`);
    addStateBackend(this);
    new KubernetesProvider(this, "kubernetes", { configPath: k8s.kubeconfig, configContext: k8s.context });
    // `docker login <registry>` first: the provider reads the credentials Docker keeps.
    new DockerProvider(this, "docker", { registryAuth: [{ address: k8s.registry.split("/")[0], configFile: "~/.docker/config.json" }] });
    new RandomProvider(this, "random", {});

    const built = buildClassImages(this, { sandbox: config.sandbox, model: config.model, services: klass.services });
    const pushed = new Construct(this, "pushed");
    const images: Record<string, string> = {
      database: config.database.image,
      sandbox: new PushedClassImage(pushed, "sandbox", { image: built.sandbox.image, repository: `${k8s.registry}/sandbox` }).ref,
    };
    if (built.api !== undefined) images.api = new PushedClassImage(pushed, "api", { image: built.api.image, repository: `${k8s.registry}/api` }).ref;
    if (built.streamlit !== undefined) images.streamlit = new PushedClassImage(pushed, "streamlit", { image: built.streamlit.image, repository: `${k8s.registry}/streamlit` }).ref;

    const settings = (service: LocalService): KubernetesServiceSettings => {
      const image = images[service.name];
      const user = KUBERNETES_IMAGE_USERS[service.name];
      if (image === undefined || user === undefined) throw new Error(`${this.node.path}: no image for the service ${JSON.stringify(service.name)}`);
      return {
        image,
        runAsUser: user,
        cpus: klass.cpus,
        volumeGiB: k8s.volumeGiB,
        stateful: service.name === "database",
        // Jupyter's base URL is /<id>/jupyter/ (nginx-conf.ts: Jupyter's own /api would meet the student's API)
        ingressPath: service.name === "sandbox" ? "jupyter" : service.name === "api" ? "api" : service.name === "streamlit" ? "app" : undefined,
        stripPrefix: service.name === "api",
        egressToInternet: service.name === "sandbox",
        // the claim's root holds lost+found, which initdb refuses
        env: service.name === "database" ? { PGDATA: `${postgresDataPath(config.database.image)}/pgdata` } : undefined,
      };
    };

    const students = new Construct(this, "students");
    for (const { student, services } of props.bundles) {
      const scope = new Construct(students, student.id);
      const files = studentSecretFiles(klass.course, student.id);
      const secrets = new StudentSecretValues(scope, "secrets", { files, user: config.database.user, database: config.database.database });
      // Course data is a host folder: the cluster's nodes do not have it (README: Kubernetes).
      const cluster = services.map((s) => ({ ...s, binds: undefined }));
      new StudentNamespace(scope, "namespace", {
        namespace: studentPrefix(klass.course, student.id),
        course: klass.course,
        student: student.id,
        services: cluster,
        settings: Object.fromEntries(cluster.map((s) => [s.name, settings(s)])),
        secrets: secrets.values,
        ingress: { className: k8s.ingressClassName, host: k8s.host, tlsSecret: k8s.tlsSecret },
        ingressControllerNamespace: k8s.ingressControllerNamespace,
        preconditions: [secrets.precondition],
        protect: config.database.protectVolume,
      });
    }
    new TerraformOutput(this, "student_paths", {
      value: Object.fromEntries(props.bundles.map(({ student }) => [student.id, `${k8s.host === undefined ? "" : `https://${k8s.host}`}${jupyterBaseUrl(student.id)}`])),
      description: "Each student's Jupyter behind the cluster's ingress; tokens: npm run classroom -- handout --out DIR",
    });
  }
}
