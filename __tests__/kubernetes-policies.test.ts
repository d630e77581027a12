import { hostControlFindings, limitsFindings, portFindings } from "../policies/container";
import { imageProblem } from "../policies/image-ref";
import { kubernetesPublishFindings, kubernetesSecretFindings, memoryMiB, workloadOfKubernetes } from "../policies/kubernetes";
import type { Json } from "../policies/document";

/** A Deployment as StudentNamespace renders one: the good case each bad case changes one thing of. */
function good(): Json {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "api", namespace: "week-alice" },
    spec: {
      selector: { matchLabels: { app: "api" } },
      template: {
        metadata: { labels: { app: "api" } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "api",
              image: "registry.example.org/week/api:0.1.0",
              env: [{ name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "week-secrets", key: "API_TOKEN" } } }],
              resources: { limits: { memory: "512Mi", cpu: "500m" } },
              readinessProbe: { exec: { command: ["true"] } },
              livenessProbe: { exec: { command: ["true"] } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 10001 },
            },
          ],
        },
      },
    },
  };
}

/** Every finding of the Docker rules' checks and the pod's own, as "message" lines. */
function judge(manifest: Json): string[] {
  const w = workloadOfKubernetes("k8s/alice/api", manifest);
  if (w === undefined) return [...kubernetesPublishFindings("k8s", manifest), ...kubernetesSecretFindings("k8s", manifest)].map((f) => f.message);
  return [
    ...w.hostControl,
    ...w.limits,
    ...w.containers.flatMap((c) => [...hostControlFindings(c), ...limitsFindings(c), ...portFindings(c)]),
    ...w.containers.flatMap((c) => {
      const p = imageProblem(c.image);
      return p === undefined ? [] : [{ message: p }];
    }),
  ].map((f) => f.message);
}

function mutate(change: (pod: Json, container: Json) => void): Json {
  const m = good();
  const pod = ((m.spec as Json).template as Json).spec as Json;
  change(pod, (pod.containers as Json[])[0]);
  return m;
}

describe("Kubernetes workloads judged by the Docker rules' checks", () => {
  test("the good Deployment passes", () => {
    expect(judge(good())).toEqual([]);
  });

  test.each<[string, (pod: Json, c: Json) => void, RegExp]>([
    ["a privileged container", (_p, c) => ((c.securityContext as Json).privileged = true), /privileged/],
    ["runAsUser 0", (_p, c) => ((c.securityContext as Json).runAsUser = 0), /overrides the image's non-root USER/],
    ["runAsNonRoot left out", (p, c) => {
      delete (c.securityContext as Json).runAsNonRoot;
      delete (p.securityContext as Json).runAsNonRoot;
    }, /runAsNonRoot is undefined/],
    ["privilege escalation allowed", (_p, c) => ((c.securityContext as Json).allowPrivilegeEscalation = true), /allowPrivilegeEscalation is true/],
    ["an added capability", (_p, c) => ((c.securityContext as Json).capabilities = { add: ["NET_ADMIN"], drop: ["ALL"] }), /adds capabilities NET_ADMIN/],
    ["capabilities not dropped", (_p, c) => ((c.securityContext as Json).capabilities = {}), /capabilities\.drop/],
    ["an unconfined seccomp profile", (p) => ((p.securityContext as Json).seccompProfile = { type: "Unconfined" }), /seccompProfile is "Unconfined"/],
    ["the host network", (p) => (p.hostNetwork = true), /hostNetwork is true/],
    ["the host PID namespace", (p) => (p.hostPID = true), /hostPID is true/],
    ["host users", (p) => (p.hostUsers = false), /hostUsers is false/],
    ["a hostPath volume", (p) => (p.volumes = [{ name: "root", hostPath: { path: "/" } }]), /host path "\/"/],
    ["a service account token", (p) => delete p.automountServiceAccountToken, /automountServiceAccountToken/],
    ["no memory limit", (_p, c) => ((c.resources as Json).limits = { cpu: "1" }), /no memory limit/],
    ["no CPU limit", (_p, c) => ((c.resources as Json).limits = { memory: "1Gi" }), /CPU limit is undefined/],
    ["no probes", (_p, c) => delete c.readinessProbe, /no readinessProbe/],
    ["a host port", (_p, c) => (c.ports = [{ containerPort: 8000, hostPort: 8000 }]), /host port 8000 is published on every interface/],
    ["an unpinned image", (_p, c) => (c.image = "registry.example.org/week/api:latest"), /latest|pinned/],
    ["an init container as root", (p) => (p.initContainers = [{ name: "init", image: "busybox:1.36.1", securityContext: { runAsUser: 0 } }]), /overrides the image's non-root USER/],
  ])("finds %s", (_name, change, expected) => {
    expect(judge(mutate(change)).join("\n")).toMatch(expected);
  });

  test("a kind the pack does not know is a finding, not a pass", () => {
    expect(judge({ ...good(), kind: "VirtualMachine" })).toEqual([expect.stringMatching(/kind VirtualMachine is not one the policy pack knows/)]);
    expect(judge({ ...good(), kind: "${var.kind}" }).join()).toMatch(/kind/);
  });

  test("a Service other than ClusterIP and a Secret with literal data are findings", () => {
    expect(judge({ kind: "Service", spec: { type: "NodePort" } })).toEqual([expect.stringMatching(/type "NodePort"/)]);
    expect(judge({ kind: "Service", spec: { type: "ClusterIP" } })).toEqual([]);
    expect(judge({ kind: "Secret", stringData: { password: "x" } })).toEqual([expect.stringMatching(/carries stringData/)]);
  });

  test("reads memory quantities", () => {
    expect(memoryMiB("512Mi")).toBe(512);
    expect(memoryMiB("1Gi")).toBe(1024);
    expect(memoryMiB("x")).toBeUndefined();
  });
});
