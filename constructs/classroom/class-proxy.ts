import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { suppress } from "../../policies/suppress";
import { LOG_DRIVER, LOG_OPTIONS, RESTART_POLICY } from "../local/local-service";
import { labelBlocks, type PrivateNetwork } from "../local/private-network";
import { PROXY_HEADERS, renderNginxConf, type StudentRoutes } from "./nginx-conf";

/** Port nginx listens on inside its container (unprivileged, so a non-root nginx works too). */
export const PROXY_CONTAINER_PORT = 8443;
const TLS_DIR = "/etc/nginx/week-tls";

export interface ClassProxyProps {
  /** The course: the container's name and label. */
  readonly course: string;
  /** Pinned nginx image. */
  readonly image: string;
  /** The one host port of the class. */
  readonly hostPort: number;
  /** Host address the port binds: loopback unless the configuration opens it. */
  readonly bindAddress: string;
  /** Host name of the class's URLs. */
  readonly serverName: string;
  /** PEM certificate and key as paths Terraform reads at plan time (`fromStackDir(...)` or absolute). */
  readonly certificateFile: string;
  readonly keyFile: string;
  readonly memoryMiB: number;
  /** @default 1 */
  readonly cpus?: number;
  /** Each student's network (the proxy joins them all) and routes. */
  readonly students: ReadonlyArray<{ readonly network: PrivateNetwork; readonly routes: StudentRoutes }>;
}

/**
 * The class's one entry point: nginx on one host port with TLS, on every student's network,
 * routing `/<id>/` to that student's services. The only published port of the classroom stack.
 */
export class ClassProxy extends Construct {
  readonly container: Container;
  /** nginx.conf, as uploaded (no secret in it). */
  readonly nginxConf: string;
  /** https://<serverName>:<port> */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ClassProxyProps) {
    super(scope, id);
    this.nginxConf = renderNginxConf(
      props.students.map((s) => s.routes),
      { listenPort: PROXY_CONTAINER_PORT, serverName: props.serverName, certificatePath: `${TLS_DIR}/cert.pem`, keyPath: `${TLS_DIR}/key.pem` },
    );
    const image = new Image(this, "image", { name: props.image, keepLocally: true });
    // Locals hold the paths: a plain attribute keeps ${path.module} an expression.
    const certificatePath = new TerraformLocal(this, "certificate_path", props.certificateFile);
    const keyPath = new TerraformLocal(this, "key_path", props.keyFile);
    this.container = new Container(this, "container", {
      name: `${props.course}-proxy`,
      hostname: "proxy",
      image: image.imageId,
      restart: RESTART_POLICY,
      memory: props.memoryMiB,
      cpus: String(props.cpus ?? 1),
      labels: labelBlocks({ course: props.course, role: "proxy" }),
      healthcheck: {
        test: ["CMD", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${PROXY_CONTAINER_PORT}`],
        interval: "10s",
        timeout: "3s",
        retries: 3,
        startPeriod: "5s",
      },
      logDriver: LOG_DRIVER,
      logOpts: { ...LOG_OPTIONS },
      command: ["nginx", "-g", "daemon off;"],
      networksAdvanced: props.students.map((s) => ({ name: s.network.network.name })),
      ports: [{ internal: PROXY_CONTAINER_PORT, external: props.hostPort, ip: props.bindAddress, protocol: "tcp" }],
      upload: [
        { file: "/etc/nginx/nginx.conf", content: this.nginxConf },
        { file: "/etc/nginx/week-proxy-headers.conf", content: PROXY_HEADERS },
        // Read at plan time, sensitive: the key is never in cdktf.out nor shown by a plan.
        { file: `${TLS_DIR}/cert.pem`, content: Fn.file(certificatePath.asString) },
        { file: `${TLS_DIR}/key.pem`, content: Fn.sensitive(Fn.file(keyPath.asString)) },
      ],
    });
    if (!/^(127\.\d+\.\d+\.\d+|::1)$/.test(props.bindAddress)) {
      suppress(this.container, "WEEK-DOCKER-002", `classroom.proxy.bindAddress is ${props.bindAddress} in the configuration: the teacher opened the class's one port to the lab network`);
    }
    const host = props.serverName.includes(":") ? `[${props.serverName}]` : props.serverName;
    this.url = `https://${host}:${props.hostPort}`;
  }
}
