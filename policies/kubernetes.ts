/**
 * Kubernetes workloads as the rules see them: each container of a pod template (Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) becomes a `ContainerSpec`, so the
 * Docker rules judge it under the same ids (root, privileges, host access, pinned image,
 * limits, secrets); what only a pod can say (privilege escalation, host namespaces, hostPath
 * volumes, a service account token, probes) is judged here under the same ids, deny by default:
 * a field that is an expression, or a kind of workload this module does not know, is a finding.
 */
import { resources, type Json, type TerraformDocument } from "./document";
import type { ContainerFinding, ContainerSpec } from "./container";
import { isExpression, show } from "./value";

/** The kinds whose pod template this module reads, and where the template is. */
const POD_TEMPLATE: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** What a Kubernetes container's `$(NAME)` reference to a variable read from a Secret becomes for the rules: a secret source. */
export const KUBERNETES_SECRET_SOURCE = String.raw`\$\{secret_env\.[A-Za-z_][A-Za-z0-9_]*\}`;

/** Kinds that run nothing and hold nothing the rules judge beyond their own checks here. */
const PASSIVE_KINDS = new Set(["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ConfigMap", "PersistentVolumeClaim", "Service", "Ingress", "Secret"]);

function at(object: unknown, keys: readonly string[]): unknown {
  let value = object;
  for (const key of keys) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Json)[key];
  }
  return value;
}

function objectOf(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

/** `512Mi` → 512; a quantity that is not a whole amount of memory is `undefined`. */
export function memoryMiB(quantity: unknown): number | undefined {
  if (typeof quantity === "number") return quantity / (1024 * 1024);
  if (typeof quantity !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (m === null) return undefined;
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576 };
  return Number(m[1]) * (m[2] === undefined ? 1 / 1048576 : factor[m[2]]);
}

/** A workload's manifest as the Docker rules' containers, with the pod's own findings. */
export interface KubernetesWorkload {
  readonly containers: ContainerSpec[];
  /** Findings of WEEK-DOCKER-004 (host control) that only a pod can have. */
  readonly hostControl: ContainerFinding[];
  /** Findings of WEEK-DOCKER-003 (limits, probes) that only a pod can have. */
  readonly limits: ContainerFinding[];
}

const FIX_HOST = "drop it: a student's pod runs as a non-root user, without privilege escalation, host namespaces or host paths";

/** The containers of a manifest; `undefined` for a kind that runs nothing (a Service, a ConfigMap). */
export function workloadOfKubernetes(pathOf: string, manifest: Json): KubernetesWorkload | undefined {
  const kind = manifest.kind;
  if (typeof kind !== "string") {
    return { containers: [], hostControl: [{ path: pathOf, message: `kind is ${show(kind)}, which the rules cannot judge`, fix: FIX_HOST }], limits: [] };
  }
  if (PASSIVE_KINDS.has(kind)) return undefined;
  const where = POD_TEMPLATE[kind];
  if (where === undefined) {
    return { containers: [], hostControl: [{ path: pathOf, message: `kind ${kind} is not one the policy pack knows how to judge`, fix: "use a Deployment or a StatefulSet, or add the kind to policies/kubernetes.ts with its bad/good cases" }], limits: [] };
  }
  const template = objectOf(at(manifest, where));
  const pod = kind === "Pod" ? objectOf(manifest.spec) : objectOf(template?.spec);
  const hostControl: ContainerFinding[] = [];
  const limits: ContainerFinding[] = [];
  if (pod === undefined) {
    return { containers: [], hostControl: [{ path: pathOf, message: `${kind} has no pod spec the rules can read (${show(template)})`, fix: FIX_HOST }], limits: [] };
  }
  const host = (message: string) => hostControl.push({ path: pathOf, message, fix: FIX_HOST });
  for (const field of ["hostNetwork", "hostPID", "hostIPC", "hostUsers"] as const) {
    const value = pod[field];
    const bad = field === "hostUsers" ? value === false : value !== undefined && value !== false;
    if (value !== undefined && (isExpression(value) || bad)) host(`${field} is ${show(value)}: the pod shares the host's namespace`);
  }
  if (pod.automountServiceAccountToken !== false) host(`automountServiceAccountToken is ${show(pod.automountServiceAccountToken)}: the pod gets a token for the cluster's API`);
  const podSecurity = objectOf(pod.securityContext) ?? {};
  const volumes = Array.isArray(pod.volumes) ? (pod.volumes as unknown[]) : pod.volumes === undefined ? [] : [pod.volumes];
  const hostPaths = volumes.map(objectOf).flatMap((v) => (v?.hostPath === undefined ? [] : [at(v.hostPath, ["path"]) ?? v.hostPath]));
  for (const path of hostPaths) host(`a volume mounts the host path ${show(path)}`);

  const containers: ContainerSpec[] = [];
  const all = [...(Array.isArray(pod.initContainers) ? pod.initContainers : []), ...(Array.isArray(pod.containers) ? pod.containers : [])];
  all.forEach((raw, i) => {
    const c = objectOf(raw) ?? {};
    const place = `${pathOf}/${typeof c.name === "string" ? c.name : `container ${i}`}`;
    const security = objectOf(c.securityContext) ?? {};
    const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
    const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
    // Kubernetes runs the image's USER unless told; only runAsNonRoot makes the kubelet check it.
    if (runAsNonRoot !== true) hostControl.push({ path: place, message: `runAsNonRoot is ${show(runAsNonRoot)}: nothing stops the container from running as root`, fix: FIX_HOST });
    if (security.allowPrivilegeEscalation !== false) hostControl.push({ path: place, message: `allowPrivilegeEscalation is ${show(security.allowPrivilegeEscalation)}, not false`, fix: FIX_HOST });
    const seccomp = at(security, ["seccompProfile", "type"]) ?? at(podSecurity, ["seccompProfile", "type"]);
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") hostControl.push({ path: place, message: `seccompProfile is ${show(seccomp)}, not RuntimeDefault`, fix: FIX_HOST });
    if (security.procMount !== undefined && security.procMount !== "Default") hostControl.push({ path: place, message: `procMount is ${show(security.procMount)}`, fix: FIX_HOST });
    const drop = at(security, ["capabilities", "drop"]);
    if (!Array.isArray(drop) || !drop.some((d) => String(d).toUpperCase() === "ALL")) hostControl.push({ path: place, message: `capabilities.drop is ${show(drop)}, not ALL`, fix: FIX_HOST });
    const ports = Array.isArray(c.ports) ? (c.ports as unknown[]).map(objectOf).filter((p): p is Json => p?.hostPort !== undefined) : [];
    // `$(NAME)` of a variable defined before from a Secret is that Secret's value: the rules see
    // it as the expression `${secret_env.NAME}`, a secret source (KUBERNETES_SECRET_SOURCE).
    const fromSecret = new Set<string>();
    const env = Array.isArray(c.env)
      ? (c.env as unknown[]).map(objectOf).flatMap((e): Array<[string, unknown]> => {
          if (e === undefined) return [];
          if (e.valueFrom !== undefined) {
            if (at(e.valueFrom, ["secretKeyRef"]) !== undefined) fromSecret.add(String(e.name));
            return [];
          }
          const value = typeof e.value === "string" ? e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => (fromSecret.has(name) ? `\${secret_env.${name}}` : whole)) : (e.value ?? "");
          return [[String(e.name), value]];
        })
      : typeof c.env === "string"
        ? c.env
        : [];
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      if (c[probe] === undefined) limits.push({ path: place, message: `the container has no ${probe}`, fix: "give it probes that ask the service itself (the description's healthcheck)" });
    }
    const limit = at(c, ["resources", "limits", "cpu"]);
    if (limit === undefined || isExpression(limit)) limits.push({ path: place, message: `the container's CPU limit is ${show(limit)}`, fix: "set resources.limits.cpu" });
    containers.push({
      path: place,
      image: c.image,
      privileged: security.privileged ?? false,
      user: runAsUser === undefined ? undefined : String(runAsUser),
      capAdd: at(security, ["capabilities", "add"]) ?? [],
      hostPaths: [],
      securityOpts: [],
      env,
      // a hostPort publishes on every node address
      ports: ports.map((p) => ({ external: p.hostPort, ip: p.hostIP })),
      memoryMiB: memoryMiB(at(c, ["resources", "limits", "memory"])),
      // a pod's containers are restarted by the kubelet (restartPolicy Always for these kinds)
      restart: kind === "Job" || kind === "CronJob" ? "on-failure" : (pod.restartPolicy ?? "Always") === "Always" ? "always" : String(pod.restartPolicy),
      healthcheck: c.readinessProbe === undefined ? [] : ["CMD", "probe"],
    });
  });
  return { containers, hostControl, limits };
}

/** WEEK-DOCKER-002's Kubernetes side: nothing reachable from outside the cluster but through the ingress. */
export function kubernetesPublishFindings(pathOf: string, manifest: Json): ContainerFinding[] {
  if (manifest.kind !== "Service") return [];
  const type = at(manifest, ["spec", "type"]) ?? "ClusterIP";
  const fix = "keep Services ClusterIP: students are reached through the one Ingress";
  if (type !== "ClusterIP") return [{ path: pathOf, message: `the Service is of type ${show(type)}: it is reachable from outside the cluster`, fix }];
  const external = at(manifest, ["spec", "externalIPs"]);
  return external === undefined ? [] : [{ path: pathOf, message: `the Service has externalIPs ${show(external)}`, fix }];
}

/** WEEK-SECRET-001's Kubernetes side: a Secret manifest holds no literal value (kubernetes_secret_v1 with generated values does). */
export function kubernetesSecretFindings(pathOf: string, manifest: Json): ContainerFinding[] {
  if (manifest.kind !== "Secret") return [];
  const fields = ["data", "stringData"].filter((f) => manifest[f] !== undefined);
  return fields.length === 0
    ? []
    : [{ path: pathOf, message: `a Secret manifest carries ${fields.join(" and ")} in the document`, fix: "use kubernetes_secret_v1 with values from generated or sensitive sources (StudentNamespace does)" }];
}

/** Every `kubernetes_manifest` of a document, with its workload as the rules read it (`undefined`: a kind that runs nothing). */
export function kubernetesManifests(doc: TerraformDocument): Array<{ path: string; manifest: Json; workload?: KubernetesWorkload }> {
  return resources(doc, "kubernetes_manifest").map((r) => {
    const manifest = objectOf(r.config.manifest);
    if (manifest === undefined) {
      return { path: r.path, manifest: {}, workload: { containers: [], hostControl: [{ path: r.path, message: `manifest is ${show(r.config.manifest)}, which the rules cannot read`, fix: FIX_HOST }], limits: [] } };
    }
    return { path: r.path, manifest, workload: workloadOfKubernetes(r.path, manifest) };
  });
}
