import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { Sleep as TimeSleep } from "@cdktf/provider-time/lib/sleep";

/** The APIs the week's Google Cloud stack calls. */
export const WEEK_GCP_SERVICES = [
  "run.googleapis.com",
  "artifactregistry.googleapis.com",
  "sqladmin.googleapis.com",
  "secretmanager.googleapis.com",
  "iam.googleapis.com",
  // google_project_iam_member reads and writes the project's policy through this API.
  "cloudresourcemanager.googleapis.com",
] as const;

export interface ProjectServicesProps {
  /** Project id (a Terraform expression). */
  readonly project: string;
  /**
   * Services to enable.
   * @default WEEK_GCP_SERVICES
   */
  readonly services?: readonly string[];
  /**
   * How long to wait after enabling before anything uses the APIs.
   * @default 60s
   */
  readonly propagation?: string;
}

/**
 * Enables the project's APIs, then waits: an API answers "not enabled" for a while after
 * its operation has completed, so resources that call it depend on `ready`, not on the
 * services themselves. The services stay enabled on destroy (other things may use them).
 */
export class ProjectServices extends Construct {
  readonly services: ProjectService[];
  /** Depend on this to run after the APIs are usable. */
  readonly ready: ITerraformDependable;

  constructor(scope: Construct, id: string, props: ProjectServicesProps) {
    super(scope, id);
    const names = props.services ?? WEEK_GCP_SERVICES;
    for (const name of names) {
      if (!/^[a-z][a-z0-9-]*\.googleapis\.com$/.test(name)) {
        throw new Error(`${this.node.path}: services must be API names such as run.googleapis.com, got ${JSON.stringify(name)}`);
      }
    }
    this.services = names.map(
      (service) =>
        new ProjectService(this, service.replace(".googleapis.com", ""), {
          project: props.project,
          service,
          disableOnDestroy: false,
          disableDependentServices: false,
        }),
    );
    this.ready = new TimeSleep(this, "propagation", {
      createDuration: props.propagation ?? "60s",
      // Another project, or a service added later, is waited for again.
      triggers: { project: props.project, services: [...names].sort().join(",") },
      dependsOn: this.services,
    });
  }
}
