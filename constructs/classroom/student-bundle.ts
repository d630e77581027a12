import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import type { Student } from "../../config/roster";
import { ApiService, API_PORT } from "../local/api-service";
import { literalEnv, type LocalService, type ProbeSchedule } from "../local/local-service";
import { ServiceContainer } from "../local/service-container";
import { PostgresService } from "../local/postgres-service";
import { labelBlocks, PrivateNetwork } from "../local/private-network";
import { Sandbox } from "../local/sandbox";
import { SANDBOX_PORT, type SandboxImage } from "../local/sandbox-image";
import { StreamlitService, STREAMLIT_PORT } from "../local/streamlit-service";
import { fromStackDir } from "../paths";
import type { WorkloadImage } from "../shared/workload-image";
import { jupyterBaseUrl, type StudentRoutes } from "./nginx-conf";

export type ClassroomService = "sandbox" | "database" | "api" | "streamlit";

/** The images every student's bundle runs: built once for the class. */
export interface ClassImages {
  readonly sandbox: SandboxImage;
  /** @default - no API */
  readonly api?: WorkloadImage;
  /** @default - no Streamlit */
  readonly streamlit?: WorkloadImage;
}

export interface StudentBundleProps {
  readonly student: Student;
  /** The course's short name: the prefix of every name, and the `course` label. */
  readonly course: string;
  /** What the student gets: sandbox and database always. */
  readonly services: readonly ClassroomService[];
  readonly images: ClassImages;
  /** Memory ceiling of the whole bundle in MiB, shared out between its containers (see memoryShares). */
  readonly memoryMiB: number;
  /** CPU ceiling of each of the bundle's containers. */
  readonly cpus: number;
  /** The student's secret files, relative to the project root (read by Terraform at plan time). */
  readonly secrets: { readonly databaseEnv: string; readonly jupyterToken: string };
  /** The PostgreSQL image, pinned. */
  readonly databaseImage: string;
  /** POSTGRES_USER / POSTGRES_DB when the secrets file does not set them. */
  readonly databaseUser: string;
  readonly databaseName: string;
  /** Refuse to destroy the student's volumes. */
  readonly protectVolume: boolean;
  /** The sandbox's git defaults (the roster's columns win). */
  readonly gitUserName: string;
  readonly gitUserEmail: string;
  /** @default - the roster's repository_url, else nothing is cloned */
  readonly gitRepositoryUrl?: string;
  /** Absolute host path of the course data, mounted read-only in the sandbox. @default - none */
  readonly courseData?: string;
  /** TZ of the containers. */
  readonly timezone: string;
}

/**
 * How a class's containers are probed. Each Docker probe is an exec in the container: about
 * 0.11 s of CPU (measured here: 62 ms in runc and the shim, 9 ms in dockerd and containerd,
 * 37 ms for the probe's Python), so 25 students (75 containers) probed at the single-student
 * intervals (database 5 s, API 10 s, sandbox 15 s) spend about one of a 2-core server's cores
 * on probes, all week, and 40% of the CPU of a class's start. Every 30 s (Docker's default)
 * costs a quarter of that; and nothing waits: `terraform apply` returns once the containers
 * are created, the API connects to its database when it answers (its /health says
 * `degraded` until then), and a student's readiness is read through the proxy
 * (`npm run classroom -- status`).
 */
export const CLASS_PROBES: ProbeSchedule = { interval: "30s", waitUntilHealthy: false };

/** Memory of each container of a bundle: the database, the API and Streamlit an eighth each, the sandbox the rest. */
export function memoryShares(memoryMiB: number, services: readonly ClassroomService[]): Record<ClassroomService, number> {
  const eighth = Math.floor(memoryMiB / 8);
  const others = services.filter((s) => s !== "sandbox").length;
  return { sandbox: memoryMiB - others * eighth, database: eighth, api: eighth, streamlit: eighth };
}

/** The names of a student's resources: course, then student id. */
export function studentPrefix(course: string, id: string): string {
  return `${course}-${id}`;
}

/**
 * One student's week, isolated from the others: its own network, sandbox (Jupyter under
 * `/<id>/`), PostgreSQL with its own credentials and volume, and the API and Streamlit on
 * request; labels `course` and `student` on every container, volume and network; memory and CPU
 * limits on every container; nothing published on the host (the class's proxy is the way in).
 *
 * The construct id is the student's id: adding or removing a roster line adds or removes only
 * that student's resources.
 */
export class StudentBundle extends Construct {
  readonly student: Student;
  readonly network: PrivateNetwork;
  readonly database: PostgresService;
  readonly sandbox: Sandbox;
  readonly api?: ApiService;
  readonly streamlit?: StreamlitService;
  /** What the class's proxy routes to. */
  readonly routes: StudentRoutes;

  /** The bundle's services, as every rendering (Docker, Compose, Kubernetes) reads them. */
  get services(): LocalService[] {
    return this.node
      .findAll()
      .filter((c): c is ServiceContainer => c instanceof ServiceContainer)
      .map((c) => c.description);
  }

  constructor(scope: Construct, id: string, props: StudentBundleProps) {
    super(scope, id);
    const { student, course } = props;
    this.student = student;
    if (student.id !== id) throw new Error(`${this.node.path}: the construct id must be the student's id, got ${JSON.stringify(id)} for ${JSON.stringify(student.id)}`);
    const prefix = studentPrefix(course, student.id);
    const memory = memoryShares(props.memoryMiB, props.services);
    this.network = new PrivateNetwork(this, "network", {
      name: prefix,
      publishPorts: false,
      labels: { course, student: student.id },
    });
    const tz = literalEnv("TZ", props.timezone);
    this.database = new PostgresService(this, "database", {
      network: this.network,
      image: props.databaseImage,
      user: props.databaseUser,
      database: props.databaseName,
      envFile: props.secrets.databaseEnv,
      memoryMiB: memory.database,
      cpus: props.cpus,
      protectVolume: props.protectVolume,
      hostPort: 5432,
      probes: CLASS_PROBES,
    });
    const repository = student.repositoryUrl ?? props.gitRepositoryUrl;
    this.sandbox = new Sandbox(this, "sandbox", {
      network: this.network,
      image: props.images.sandbox,
      gitUserName: student.gitUserName ?? student.name,
      gitUserEmail: student.gitUserEmail ?? student.email,
      // A local holds the path: a plain attribute keeps ${path.module} an expression.
      token: Fn.sensitive(Fn.trimspace(Fn.file(new TerraformLocal(this, "jupyter_token_path", fromStackDir(props.secrets.jupyterToken)).asString))),
      gitCredentials: false,
      baseUrl: jupyterBaseUrl(student.id),
      memoryMiB: memory.sandbox,
      cpus: props.cpus,
      protectVolume: props.protectVolume,
      databaseUrl: this.database.urlEnv,
      env: [
        literalEnv("GIT_USER_NAME", student.gitUserName ?? student.name),
        literalEnv("GIT_USER_EMAIL", student.gitUserEmail ?? student.email),
        literalEnv("GIT_REPO_URL", repository ?? ""),
        tz,
      ],
      binds: props.courseData === undefined ? undefined : [{ source: props.courseData, target: `${props.images.sandbox.workspace}/course-data` }],
      hostPort: SANDBOX_PORT,
      probes: CLASS_PROBES,
    });
    const wants = (s: ClassroomService) => props.services.includes(s);
    if (wants("api")) {
      if (props.images.api === undefined) throw new Error(`${this.node.path}: services include api but images.api is not given`);
      this.api = new ApiService(this, "api", {
        network: this.network,
        database: this.database,
        image: props.images.api,
        memoryMiB: memory.api,
        cpus: props.cpus,
        hostPort: 8080,
        probes: CLASS_PROBES,
      });
    }
    if (wants("streamlit")) {
      if (props.images.streamlit === undefined || this.api === undefined) {
        throw new Error(`${this.node.path}: services include streamlit but the API or images.streamlit is not given`);
      }
      this.streamlit = new StreamlitService(this, "streamlit", {
        network: this.network,
        api: this.api,
        image: props.images.streamlit,
        memoryMiB: memory.streamlit,
        cpus: props.cpus,
        baseUrlPath: `${student.id}/app`,
        probes: CLASS_PROBES,
      });
    }
    this.routes = {
      id: student.id,
      jupyter: `${prefix}-sandbox:${SANDBOX_PORT}`,
      ...(this.api === undefined ? {} : { api: `${prefix}-api:${API_PORT}` }),
      ...(this.streamlit === undefined ? {} : { app: `${prefix}-streamlit:${STREAMLIT_PORT}` }),
    };
  }
}

/**
 * A student no longer in the roster whose volumes are kept (protectVolume): the same construct
 * path as in their bundle, so Terraform keeps the same volumes and destroys only the containers
 * and the network.
 */
export class DepartedStudentVolumes extends Construct {
  readonly volumes: Volume[];

  constructor(scope: Construct, id: string, props: { readonly course: string }) {
    super(scope, id);
    const prefix = studentPrefix(props.course, id);
    const labels = labelBlocks({ course: props.course, student: id });
    const keep = (parent: string, child: string, base: string) =>
      new Volume(new Construct(this, parent), child, { name: `${prefix}-${base}`, labels, lifecycle: { preventDestroy: true } });
    this.volumes = [keep("database", "data", "database-data"), keep("sandbox", "workspace", "workspace-data")];
  }
}

