/**
 * The Kubernetes rendering of a student's bundle: the same typed service descriptions
 * (`LocalService`, constructs/local/local-service.ts) that the Docker provider and Compose
 * render, turned into plain Kubernetes objects for one namespace per student.
 *
 * Every object is built with the `kubernetes-models` classes (the Kubernetes OpenAPI schemas of
 * the version they name, `KUBERNETES_SCHEMA_VERSION`) and validated against them before it is
 * returned; TypeScript's excess-property checks refuse a field the API does not know at compile
 * time. Nothing here knows Terraform: `student-namespace.ts` turns the objects into resources.
 *
 * Runtime values (a password, a token) never appear in an object: each becomes an environment
 * variable read from the namespace's Secret (`secretKeyRef`, key = the value's variable name),
 * and a value made of parts (`DATABASE_URL`) is composed by the kubelet with `$(VAR)`
 * references to those variables.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { LimitRange } from "kubernetes-models/v1/LimitRange";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import { DNS_LABEL } from "../../config/schema";
import type { LocalService, RuntimeValue, ServiceEnv } from "../local/local-service";

/** The Kubernetes version whose OpenAPI schemas validate every object (kubernetes-models 4.5.1). */
export const KUBERNETES_SCHEMA_VERSION = "1.27.1";

/** One object of the rendering: what the Terraform side needs to name and order it. */
export type KubernetesObject =
  | Namespace
  | ResourceQuota
  | LimitRange
  | NetworkPolicy
  | ConfigMap
  | PersistentVolumeClaim
  | Deployment
  | StatefulSet
  | Service
  | Ingress;

/** How a service of the bundle runs on the cluster beyond what its description says. */
export interface KubernetesServiceSettings {
  /** Pinned image reference the cluster pulls (a built image pushed to a registry, by tag or digest). */
  readonly image: string;
  /** The numeric user the container runs as (the image's USER, which Kubernetes cannot check by name). */
  readonly runAsUser: number;
  /** CPU limit in cores. */
  readonly cpus: number;
  /**
   * Run as a StatefulSet whose volumes are claim templates (PostgreSQL); a Deployment otherwise.
   * @default false
   */
  readonly stateful?: boolean;
  /**
   * Size of each of its volumes, in GiB.
   * @default 1
   */
  readonly volumeGiB?: number;
  /**
   * The path under the student's prefix the ingress sends to it (`""` for `/<id>/`, `api` for `/<id>/api/`).
   * @default - not reachable from the ingress
   */
  readonly ingressPath?: string;
  /**
   * The service expects requests at its own root: the ingress strips the student's prefix (the API).
   * @default false
   */
  readonly stripPrefix?: boolean;
  /**
   * May open connections outside the cluster's private ranges (the sandbox: git clone, pip install).
   * @default false
   */
  readonly egressToInternet?: boolean;
  /**
   * Variables this rendering adds (PGDATA below the claim's root, which holds lost+found).
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
}

export interface StudentBundleProps {
  /** The namespace (`<course>-<student id>`): a DNS label. */
  readonly namespace: string;
  readonly course: string;
  readonly student: string;
  /** The services, as every rendering describes them. */
  readonly services: readonly LocalService[];
  /** Per service name, how it runs here; every service must have an entry. */
  readonly settings: Readonly<Record<string, KubernetesServiceSettings>>;
  /** Name of the namespace's Secret that holds every runtime value, by variable name. */
  readonly secretName: string;
  /** The ingress: class and host come from the configuration. */
  readonly ingress: {
    readonly className: string;
    /** @default - any host */
    readonly host?: string;
    /** The TLS Secret of `host` in the namespace. @default - the ingress controller's default certificate */
    readonly tlsSecret?: string;
  };
  /** Namespace of the ingress controller, allowed in by the network policy. */
  readonly ingressControllerNamespace: string;
}

/** Private ranges the sandbox's internet egress leaves out (the cluster's pods and nodes live there). */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"];

/** `30s` → 30 (the healthcheck's durations are Docker's: seconds, or `1m30s`). */
export function seconds(duration: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (m === null || (m[1] === undefined && m[2] === undefined)) {
    throw new Error(`healthcheck duration must be like 30s or 1m30s, got ${JSON.stringify(duration)}`);
  }
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** Docker's healthcheck test as an exec probe command. */
function probeCommand(test: readonly string[]): string[] {
  const [kind, ...rest] = test;
  if (kind === "CMD-SHELL") return ["/bin/sh", "-c", rest.join(" ")];
  if (kind === "CMD") return [...rest];
  throw new Error(`healthcheck test must start with CMD or CMD-SHELL, got ${JSON.stringify(kind)}`);
}

/** The runtime values a service reads, by variable name (the keys of the namespace's Secret). */
export function runtimeValues(service: LocalService): RuntimeValue[] {
  const values = new Map<string, RuntimeValue>();
  for (const v of service.envFile?.values ?? []) values.set(v.variable, v);
  for (const e of service.env ?? []) for (const p of e.parts) if (typeof p !== "string") values.set(p.value.variable, p.value);
  return [...values.values()];
}

/**
 * The container's environment: every runtime value first, from the Secret, then each variable;
 * a variable made of parts refers to the runtime values with `$(VAR)`, which the kubelet expands
 * because they are defined before it. A URL-encoded part is refused unless the value is known to
 * need no encoding: the generated secrets are letters and digits.
 */
function containerEnv(service: LocalService, secretName: string): IEnvVar[] {
  const fromSecret = runtimeValues(service).map((v) => ({
    name: v.variable,
    valueFrom: { secretKeyRef: { name: secretName, key: v.variable, optional: v.required === undefined } },
  }));
  const defined = new Set(fromSecret.map((e) => e.name));
  const composed: IEnvVar[] = [];
  for (const e of service.env ?? []) {
    if (e.parts.length === 1 && typeof e.parts[0] !== "string" && e.parts[0].value.variable === e.name) continue; // already defined
    composed.push({ name: e.name, value: composeValue(e) });
    defined.add(e.name);
  }
  return [...fromSecret, ...composed];
}

function composeValue(env: ServiceEnv): string {
  return env.parts
    .map((p) => (typeof p === "string" ? p.replace(/\$\(/g, "$$$$(") : `$(${p.value.variable})`))
    .join("");
}

/** The ports the service listens on inside its network, its own first: `expose`, else the published ports'. */
export function listeningPorts(service: LocalService): number[] {
  const ports = service.expose ?? service.ports.map((p) => p.container);
  if (ports.length === 0) throw new Error(`kubernetes: service ${service.name} listens on no port (ports and expose are empty)`);
  return [...new Set(ports)];
}

function labelsOf(props: StudentBundleProps, service?: string): Record<string, string> {
  return {
    "app.kubernetes.io/part-of": props.course,
    "app.kubernetes.io/managed-by": "week-environments",
    course: props.course,
    student: props.student,
    ...(service === undefined ? {} : { "app.kubernetes.io/name": service }),
  };
}

function quantityMi(mib: number): string {
  return `${mib}Mi`;
}

function cpuQuantity(cpus: number): string {
  return `${Math.round(cpus * 1000)}m`;
}

/** Validate every object against its schema; the error names the object and the first problem. */
function validated<T extends KubernetesObject>(object: T): T {
  try {
    object.validate();
  } catch (error) {
    const name = `${object.kind}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
    throw new Error(`kubernetes: ${name} does not match the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schema: ${(error as Error).message.split("\n")[0]}`);
  }
  return object;
}

/** One student's namespace and everything in it, validated. */
export function renderStudentBundle(props: StudentBundleProps): KubernetesObject[] {
  if (!DNS_LABEL.test(props.namespace)) {
    throw new Error(`kubernetes: namespace must be a DNS label (a-z, 0-9, -; at most 63), got ${JSON.stringify(props.namespace)}`);
  }
  for (const service of props.services) {
    if ((service.binds ?? []).length > 0) {
      throw new Error(`kubernetes: service ${service.name} mounts host folders (${service.binds?.map((b) => b.source).join(", ")}), which a cluster's nodes do not have`);
    }
    if (props.settings[service.name] === undefined) {
      throw new Error(`kubernetes: settings.${service.name} is missing: every service needs its image, user and CPU on the cluster`);
    }
  }
  const ns = props.namespace;
  const objects: KubernetesObject[] = [];
  objects.push(
    new Namespace({
      metadata: {
        name: ns,
        labels: {
          ...labelsOf(props),
          // Pod Security Admission: the namespace refuses pods that are not "restricted".
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": `v${KUBERNETES_SCHEMA_VERSION.split(".").slice(0, 2).join(".")}`,
        },
      },
    }),
  );

  // Quota = what the bundle's containers ask for, so a student cannot start more than their week.
  const totals = props.services.reduce(
    (acc, s) => {
      const set = props.settings[s.name];
      const volumes = s.volumes?.length ?? 0;
      return {
        memoryMiB: acc.memoryMiB + s.memoryMiB,
        cpus: acc.cpus + set.cpus,
        claims: acc.claims + volumes,
        storageGiB: acc.storageGiB + volumes * (set.volumeGiB ?? 1),
      };
    },
    { memoryMiB: 0, cpus: 0, claims: 0, storageGiB: 0 },
  );
  objects.push(
    new ResourceQuota({
      metadata: { name: "week", namespace: ns, labels: labelsOf(props) },
      spec: {
        hard: {
          "limits.memory": quantityMi(totals.memoryMiB),
          "requests.memory": quantityMi(totals.memoryMiB),
          "limits.cpu": cpuQuantity(totals.cpus),
          "requests.cpu": cpuQuantity(totals.cpus),
          // one pod per service, plus one being replaced during a rollout
          pods: String(props.services.length * 2),
          persistentvolumeclaims: String(totals.claims),
          "requests.storage": `${totals.storageGiB}Gi`,
          "services.loadbalancers": "0",
          "services.nodeports": "0",
        },
      },
    }),
    new LimitRange({
      metadata: { name: "week", namespace: ns, labels: labelsOf(props) },
      spec: {
        limits: [
          {
            type: "Container",
            // a container added by hand (kubectl run) gets small limits, never none
            default: { memory: "256Mi", cpu: "500m" },
            defaultRequest: { memory: "128Mi", cpu: "100m" },
            max: { memory: quantityMi(Math.max(...props.services.map((s) => s.memoryMiB))) },
          },
        ],
      },
    }),
  );

  // Deny by default; then: the namespace's own pods, and the ingress controller to the services it routes.
  objects.push(
    new NetworkPolicy({
      metadata: { name: "default-deny", namespace: ns, labels: labelsOf(props) },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    }),
    new NetworkPolicy({
      metadata: { name: "same-namespace", namespace: ns, labels: labelsOf(props) },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [
          { to: [{ podSelector: {} }] },
          {
            // DNS, to the cluster's resolver only
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    }),
  );
  const routed = props.services.filter((s) => props.settings[s.name].ingressPath !== undefined);
  if (routed.length > 0) {
    objects.push(
      new NetworkPolicy({
        metadata: { name: "from-ingress-controller", namespace: ns, labels: labelsOf(props) },
        spec: {
          podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: routed.map((s) => s.name) }] },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": props.ingressControllerNamespace } } }],
              ports: routed.map((s) => ({ protocol: "TCP", port: listeningPorts(s)[0] })),
            },
          ],
        },
      }),
    );
  }
  const internet = props.services.filter((s) => props.settings[s.name].egressToInternet === true);
  if (internet.length > 0) {
    objects.push(
      new NetworkPolicy({
        metadata: { name: "internet-egress", namespace: ns, labels: labelsOf(props) },
        spec: {
          podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: internet.map((s) => s.name) }] },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: PRIVATE_RANGES } }] }],
        },
      }),
    );
  }

  for (const service of props.services) objects.push(...renderService(props, service));

  // Services that see the path as the browser sent it (Jupyter's base_url, Streamlit's baseUrlPath)
  // share one Ingress; a service that expects its own root (the API) gets one that strips the prefix.
  const ingress = (name: string, services: readonly LocalService[], strip: boolean): Ingress =>
    new Ingress({
      metadata: {
        name,
        namespace: ns,
        labels: labelsOf(props),
        annotations: strip
          ? // ingress-nginx's way to strip a prefix; another controller needs its own (README: Kubernetes)
            { "nginx.ingress.kubernetes.io/use-regex": "true", "nginx.ingress.kubernetes.io/rewrite-target": "/$2" }
          : undefined,
      },
      spec: {
        ingressClassName: props.ingress.className,
        // TLS whenever there is a host: the named Secret, or the controller's default certificate
        tls: props.ingress.host === undefined ? undefined : [{ hosts: [props.ingress.host], secretName: props.ingress.tlsSecret }],
        rules: [
          {
            host: props.ingress.host,
            http: {
              // longest prefix first, as the controller matches
              paths: [...services]
                .sort((a, b) => (props.settings[b.name].ingressPath ?? "").length - (props.settings[a.name].ingressPath ?? "").length)
                .map((s) => {
                  const sub = props.settings[s.name].ingressPath ?? "";
                  const prefix = sub === "" ? `/${props.student}` : `/${props.student}/${sub}`;
                  return {
                    path: strip ? `${prefix}(/|$)(.*)` : `${prefix}/`,
                    pathType: strip ? "ImplementationSpecific" : "Prefix",
                    backend: { service: { name: s.name, port: { number: listeningPorts(s)[0] } } },
                  };
                }),
            },
          },
        ],
      },
    });
  const asSent = routed.filter((s) => props.settings[s.name].stripPrefix !== true);
  const stripped = routed.filter((s) => props.settings[s.name].stripPrefix === true);
  if (asSent.length > 0) objects.push(ingress("week", asSent, false));
  if (stripped.length > 0) objects.push(ingress("week-stripped", stripped, true));
  return objects.map(validated);
}

function renderService(props: StudentBundleProps, service: LocalService): KubernetesObject[] {
  const ns = props.namespace;
  const set = props.settings[service.name];
  const labels = labelsOf(props, service.name);
  const selector = { "app.kubernetes.io/name": service.name, student: props.student };
  const objects: KubernetesObject[] = [];

  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  if ((service.files ?? []).length > 0) {
    const configName = `${service.name}-files`;
    const data: Record<string, string> = {};
    for (const file of service.files ?? []) data[path.basename(file.target)] = fs.readFileSync(file.source, "utf8");
    objects.push(new ConfigMap({ metadata: { name: configName, namespace: ns, labels }, data }));
    volumes.push({ name: "files", configMap: { name: configName } });
    for (const file of service.files ?? []) {
      mounts.push({ name: "files", mountPath: file.target, subPath: path.basename(file.target), readOnly: true });
    }
  }
  const claims = (service.volumes ?? []).map((v) => ({
    name: v.name,
    target: v.target,
    spec: {
      accessModes: ["ReadWriteOnce" as const],
      resources: { requests: { storage: `${set.volumeGiB ?? 1}Gi` } },
    },
  }));
  for (const claim of claims) mounts.push({ name: claim.name, mountPath: claim.target });

  const h = service.healthcheck;
  const probe: IProbe = {
    exec: { command: probeCommand(h.test) },
    periodSeconds: seconds(h.interval),
    timeoutSeconds: seconds(h.timeout),
    failureThreshold: h.retries,
  };
  const container: IContainer = {
    name: service.name,
    image: set.image,
    imagePullPolicy: "IfNotPresent",
    env: [...containerEnv(service, props.secretName), ...Object.entries(set.env ?? {}).map(([name, value]) => ({ name, value }))],
    ports: listeningPorts(service).map((port) => ({ containerPort: port, protocol: "TCP" })),
    resources: {
      requests: { memory: quantityMi(service.memoryMiB), cpu: cpuQuantity(set.cpus) },
      limits: { memory: quantityMi(service.memoryMiB), cpu: cpuQuantity(set.cpus) },
    },
    // the start period becomes a startup probe: liveness waits for it, as Docker's does
    startupProbe: { ...probe, failureThreshold: Math.max(1, Math.ceil(seconds(h.startPeriod) / Math.max(1, seconds(h.interval)))) + h.retries },
    readinessProbe: probe,
    livenessProbe: probe,
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      runAsUser: set.runAsUser,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: mounts.length > 0 ? mounts : undefined,
  };
  const podSpec: IPodSpec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: set.runAsUser,
      runAsGroup: set.runAsUser,
      fsGroup: set.runAsUser,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containers: [container],
    volumes: undefined,
  };

  if (set.stateful === true) {
    objects.push(
      new StatefulSet({
        metadata: { name: service.name, namespace: ns, labels },
        spec: {
          serviceName: service.name,
          replicas: 1,
          selector: { matchLabels: selector },
          template: { metadata: { labels: { ...labels, ...selector } }, spec: { ...podSpec, volumes: volumes.length > 0 ? volumes : undefined } },
          volumeClaimTemplates: claims.map((c) => ({ metadata: { name: c.name, labels }, spec: c.spec })),
          // a removed student's data stays until the teacher deletes the claims
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        },
      }),
    );
  } else {
    for (const c of claims) objects.push(new PersistentVolumeClaim({ metadata: { name: c.name, namespace: ns, labels }, spec: c.spec }));
    const all = [...volumes, ...claims.map((c) => ({ name: c.name, persistentVolumeClaim: { claimName: c.name } }))];
    objects.push(
      new Deployment({
        metadata: { name: service.name, namespace: ns, labels },
        spec: {
          replicas: 1,
          // a ReadWriteOnce volume cannot be held by two pods: stop the old one first
          strategy: claims.length > 0 ? { type: "Recreate" } : { type: "RollingUpdate" },
          selector: { matchLabels: selector },
          template: { metadata: { labels: { ...labels, ...selector } }, spec: { ...podSpec, volumes: all.length > 0 ? all : undefined } },
        },
      }),
    );
  }
  objects.push(
    new Service({
      metadata: { name: service.name, namespace: ns, labels },
      spec: {
        type: "ClusterIP",
        selector,
        ports: listeningPorts(service).map((port, i) => ({ name: i === 0 ? "main" : `port-${port}`, port, targetPort: port, protocol: "TCP" })),
      },
    }),
  );
  return objects;
}
