import * as path from "path";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { Roster } from "../config/roster";
import type { WeekConfig } from "../config/schema";
import { ClassProxy } from "../constructs/classroom/class-proxy";
import { DepartedStudentVolumes, StudentBundle, type ClassImages } from "../constructs/classroom/student-bundle";
import { apiImageProps } from "../constructs/local/api-service";
import { SandboxImage } from "../constructs/local/sandbox-image";
import { fromStackDir, PROJECT_ROOT, WORKLOADS } from "../constructs/paths";
import { buildWorkloadImage } from "../constructs/shared/workload-image";
import { selfSignedFiles, studentSecretFiles } from "../tools/classroom/secrets";

export interface ClassroomStackProps {
  readonly config: WeekConfig;
  readonly roster: Roster;
  /**
   * Students no longer in the roster whose volumes are kept while database.protectVolume is on.
   * @default - none
   */
  readonly departed?: readonly string[];
}

/** A path of the configuration as Terraform reads it from cdktf.out/stacks/<stack>. */
function terraformPath(file: string): string {
  const absolute = path.resolve(file);
  const relative = path.relative(PROJECT_ROOT, absolute);
  return relative.startsWith("..") || path.isAbsolute(relative) ? absolute : fromStackDir(relative.split(path.sep).join("/"));
}

/** `npx cdktf deploy classroom`: every student of the roster on this Docker engine, behind one TLS proxy. */
export class ClassroomStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ClassroomStackProps) {
    super(scope, id);
    const { config, roster } = props;
    const klass = config.classroom;
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    new DockerProvider(this, "docker", {});
    new RandomProvider(this, "random", {});

    const images: ClassImages = {
      sandbox: new SandboxImage(this, "sandbox_image", config.sandbox),
      ...(klass.services.includes("api") ? { api: buildWorkloadImage(new Construct(this, "api_image"), apiImageProps(config.model)) } : {}),
      ...(klass.services.includes("streamlit")
        ? { streamlit: buildWorkloadImage(new Construct(this, "streamlit_image"), { source: path.join(WORKLOADS, "streamlit"), repository: "week-streamlit" }) }
        : {}),
    };
    // Under one scope keyed by id: a student named like a stack-level construct cannot collide with it.
    const students = new Construct(this, "students");
    const bundles = roster.students.map(
      (student) =>
        new StudentBundle(students, student.id, {
          student,
          course: klass.course,
          services: klass.services,
          images,
          memoryMiB: klass.memoryMiB,
          cpus: klass.cpus,
          secrets: studentSecretFiles(klass.course, student.id),
          databaseImage: config.database.image,
          databaseUser: config.database.user,
          databaseName: config.database.database,
          protectVolume: config.database.protectVolume,
          gitUserName: config.sandbox.gitUserName,
          gitUserEmail: config.sandbox.gitUserEmail,
          gitRepositoryUrl: config.sandbox.gitRepositoryUrl,
          courseData: klass.courseData === undefined ? undefined : path.resolve(klass.courseData),
          timezone: klass.timezone,
        }),
    );
    if (config.database.protectVolume) {
      for (const id of props.departed ?? []) new DepartedStudentVolumes(students, id, { course: klass.course });
    }
    const generated = selfSignedFiles(klass.course);
    const proxy = new ClassProxy(this, "proxy", {
      course: klass.course,
      image: klass.proxy.image,
      hostPort: klass.proxy.hostPort,
      bindAddress: klass.proxy.bindAddress,
      serverName: klass.proxy.serverName,
      certificateFile: klass.proxy.tlsCertificate === undefined ? fromStackDir(generated.certificate) : terraformPath(klass.proxy.tlsCertificate),
      keyFile: klass.proxy.tlsKey === undefined ? fromStackDir(generated.key) : terraformPath(klass.proxy.tlsKey),
      memoryMiB: klass.proxy.memoryMiB,
      students: bundles.map((b) => ({ network: b.network, routes: b.routes })),
    });

    new TerraformOutput(this, "class_url", { value: proxy.url, description: "The class's entry point; each student's notebook is under /<id>/" });
    new TerraformOutput(this, "student_urls", {
      value: Object.fromEntries(roster.students.map((s) => [s.id, `${proxy.url}/${s.id}/`])),
      description: "Each student's Jupyter; tokens and database passwords: npm run classroom -- handout --out DIR",
    });
  }
}
