import { Construct } from "constructs";
import type { Image } from "@cdktf/provider-docker/lib/image";
import type { BuildContext } from "../shared/build-context";
import { buildWorkloadImage, type WorkloadImage } from "../shared/workload-image";
import type { WorkloadContext } from "../shared/workload-contexts";
import { literalEnv, type ProbeSchedule, type ServiceEnv } from "./local-service";
import type { PrivateNetwork } from "./private-network";
import { ServiceContainer } from "./service-container";

export interface WorkloadServiceProps {
  readonly network: PrivateNetwork;
  /** Folder of the workload, with its Dockerfile. */
  readonly source: string;
  /** What the build context admits from the source (workload-contexts.ts). */
  readonly contents: WorkloadContext;
  /** Name on the network, and of the image. */
  readonly alias: string;
  readonly containerPort: number;
  readonly hostPort: number;
  readonly memoryMiB: number;
  /** Path probed by the healthcheck. */
  readonly healthPath: string;
  /** @default - none */
  readonly env?: readonly ServiceEnv[];
  /** Services that must be healthy first. @default - none */
  readonly dependsOn?: readonly ServiceContainer[];
  /** Files written into the staged build context on top of the source. @default - none */
  readonly contextFiles?: Readonly<Record<string, string>>;
  /**
   * An image shared with other services (a class runs one API image for every student).
   * @default - built here from `source`
   */
  readonly image?: WorkloadImage;
  /** CPU limit (docker --cpus). @default - none */
  readonly cpus?: number;
  /** @default - its healthcheck, every 10 s, and `terraform apply` waits for it */
  readonly probes?: ProbeSchedule;
}

/**
 * A workload from `lambdas-src/` built from its own Dockerfile and run on the network,
 * with a healthcheck that asks the service itself over HTTP.
 */
export class WorkloadService extends Construct {
  readonly context: BuildContext;
  readonly image: Image;
  readonly service: ServiceContainer;

  constructor(scope: Construct, id: string, props: WorkloadServiceProps) {
    super(scope, id);
    ({ context: this.context, image: this.image } =
      props.image ??
      buildWorkloadImage(this, {
        source: props.source,
        contents: props.contents,
        repository: `week-${props.alias}`,
        files: props.contextFiles,
      }));
    this.service = new ServiceContainer(this, "service", {
      network: props.network,
      alias: props.alias,
      image: { terraform: this.image.imageId, build: { context: props.source, dockerfile: "Dockerfile" } },
      ports: [{ container: props.containerPort, host: props.hostPort }],
      memoryMiB: props.memoryMiB,
      cpus: props.cpus,
      env: [literalEnv("PORT", String(props.containerPort)), ...(props.env ?? [])],
      healthcheck: {
        test: [
          "CMD",
          "python",
          "-c",
          `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${props.containerPort}${props.healthPath}', timeout=4)`,
        ],
        interval: "10s",
        timeout: "5s",
        retries: 3,
        startPeriod: "20s",
      },
      waitUntilHealthy: true,
      dependsOn: props.dependsOn,
      probes: props.probes,
    });
  }
}
