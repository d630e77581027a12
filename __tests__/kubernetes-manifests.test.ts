import { LocalStack } from "../stacks/local-stack";
import { ServiceContainer } from "../constructs/local/service-container";
import type { LocalService } from "../constructs/local/local-service";
import { KUBERNETES_SCHEMA_VERSION, renderStudentBundle, seconds, type KubernetesObject, type KubernetesServiceSettings } from "../constructs/kubernetes/manifests";
import { hostControlFindings, limitsFindings, portFindings } from "../policies/container";
import { imageProblem } from "../policies/image-ref";
import { kubernetesPublishFindings, kubernetesSecretFindings, workloadOfKubernetes } from "../policies/kubernetes";
import type { Json } from "../policies/document";
import { testApp, weekConfig } from "./helpers";

/** The local stack's own service descriptions: the Kubernetes rendering reads the same ones. */
function localDescriptions(): LocalService[] {
  const app = testApp();
  const stack = new LocalStack(app, "local", weekConfig());
  return stack.node
    .findAll()
    .filter((c): c is ServiceContainer => c instanceof ServiceContainer)
    .map((c) => c.description);
}

const SETTINGS: Record<string, KubernetesServiceSettings> = {
  database: { image: "postgres:17.6-bookworm", runAsUser: 999, cpus: 0.5, stateful: true, volumeGiB: 2, env: { PGDATA: "/var/lib/postgresql/data/pgdata" } },
  sandbox: { image: "registry.example.org/week/sandbox:0.1.0", runAsUser: 1001, cpus: 1, ingressPath: "", egressToInternet: true },
  api: { image: "registry.example.org/week/api:0.1.0", runAsUser: 10001, cpus: 0.5, ingressPath: "api", stripPrefix: true },
  streamlit: { image: "registry.example.org/week/streamlit:0.1.0", runAsUser: 10001, cpus: 0.5, ingressPath: "app" },
};

function render(services = localDescriptions()): KubernetesObject[] {
  return renderStudentBundle({
    namespace: "m2iot-alice",
    course: "m2iot",
    student: "alice",
    services,
    settings: SETTINGS,
    secretName: "week-secrets",
    ingress: { className: "nginx", host: "lab.example.org" },
    ingressControllerNamespace: "ingress-nginx",
  });
}

function find<K extends KubernetesObject["kind"]>(objects: KubernetesObject[], kind: K, name: string): Extract<KubernetesObject, { kind: K }> {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name} in ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`);
  return found as Extract<KubernetesObject, { kind: K }>;
}

describe("the Kubernetes rendering of a student's bundle", () => {
  const objects = render();
  const json = JSON.stringify(objects);

  test("renders every service of the local stack's descriptions", () => {
    expect(localDescriptions().map((s) => s.name).sort()).toEqual(["api", "database", "sandbox", "streamlit"]);
    expect(find(objects, "StatefulSet", "database").spec?.volumeClaimTemplates?.[0].metadata?.name).toBe("database-data");
    for (const name of ["sandbox", "api", "streamlit"]) expect(find(objects, "Deployment", name).kind).toBe("Deployment");
    for (const name of ["database", "sandbox", "api", "streamlit"]) expect(find(objects, "Service", name).spec?.type).toBe("ClusterIP");
  });

  test(`validates every object against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schemas`, () => {
    for (const o of objects) expect(() => o.validate()).not.toThrow();
  });

  test("refuses an object the schema refuses, naming it", () => {
    // a fractional retry count becomes a probe's failureThreshold, which the schema types as an integer
    const broken = localDescriptions().map((s) => (s.name === "api" ? { ...s, healthcheck: { ...s.healthcheck, retries: 2.5 } } : s));
    expect(() => render(broken)).toThrow(/kubernetes: Deployment\/m2iot-alice\/api does not match the Kubernetes 1\.27\.1 schema/);
  });

  test("never carries a runtime value: passwords and tokens come from the namespace's Secret", () => {
    const sandbox = find(objects, "Deployment", "sandbox").spec!.template.spec!.containers[0];
    expect(sandbox.env).toContainEqual({ name: "JUPYTER_TOKEN", valueFrom: { secretKeyRef: { name: "week-secrets", key: "JUPYTER_TOKEN", optional: false } } });
    const api = find(objects, "Deployment", "api").spec!.template.spec!.containers[0];
    const url = api.env!.find((e) => e.name === "DATABASE_URL")!;
    expect(url.value).toBe("postgresql://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@database:5432/$(POSTGRES_DB)");
    const names = api.env!.map((e) => e.name);
    // $(VAR) only expands variables defined before it
    for (const v of ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]) expect(names.indexOf(v)).toBeLessThan(names.indexOf("DATABASE_URL"));
    expect(json).not.toMatch(/\$\{/); // no Terraform expression leaks into a manifest
  });

  test("every pod runs as a non-root user without privileges, with limits", () => {
    for (const o of objects) {
      if (o.kind !== "Deployment" && o.kind !== "StatefulSet") continue;
      const pod = o.spec!.template.spec!;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.volumes?.some((v) => v.hostPath !== undefined) ?? false).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true });
        expect(c.securityContext!.runAsUser).toBeGreaterThan(0);
        expect(c.resources?.limits?.memory).toMatch(/^\d+Mi$/);
        expect(c.resources?.limits?.cpu).toMatch(/^\d+m$/);
      }
    }
  });

  test("denies by default and lets in only the namespace and the ingress controller", () => {
    expect(find(objects, "NetworkPolicy", "default-deny").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const fromIngress = find(objects, "NetworkPolicy", "from-ingress-controller").spec!;
    expect(fromIngress.ingress?.[0].from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }]);
    expect(fromIngress.podSelector.matchExpressions?.[0].values?.sort()).toEqual(["api", "sandbox", "streamlit"]);
    const internet = find(objects, "NetworkPolicy", "internet-egress").spec!;
    expect(internet.podSelector.matchExpressions?.[0].values).toEqual(["sandbox"]);
    expect(internet.egress?.[0].to?.[0].ipBlock?.except).toContain("10.0.0.0/8");
  });

  test("routes /<id>/ and /<id>/app/ as sent, and /<id>/api/ with the prefix stripped", () => {
    const week = find(objects, "Ingress", "week");
    expect(week.spec!.rules![0].http!.paths.map((p) => [p.path, p.pathType, p.backend.service?.name])).toEqual([
      ["/alice/app/", "Prefix", "streamlit"],
      ["/alice/", "Prefix", "sandbox"],
    ]);
    expect(week.metadata?.annotations).toBeUndefined();
    const stripped = find(objects, "Ingress", "week-stripped");
    expect(stripped.spec!.rules![0].http!.paths.map((p) => [p.path, p.pathType, p.backend.service?.name])).toEqual([["/alice/api(/|$)(.*)", "ImplementationSpecific", "api"]]);
    expect(stripped.metadata?.annotations).toEqual({ "nginx.ingress.kubernetes.io/use-regex": "true", "nginx.ingress.kubernetes.io/rewrite-target": "/$2" });
    expect(week.spec!.tls).toEqual([{ hosts: ["lab.example.org"] }]);
  });

  test("quota and limit range follow the bundle", () => {
    const quota = find(objects, "ResourceQuota", "week").spec!.hard!;
    const memory = localDescriptions().reduce((sum, s) => sum + s.memoryMiB, 0);
    expect(quota["limits.memory"]).toBe(`${memory}Mi`);
    expect(quota["persistentvolumeclaims"]).toBe("2");
    expect(find(objects, "LimitRange", "week").spec!.limits[0].default).toEqual({ memory: "256Mi", cpu: "500m" });
  });

  test("passes the policy pack's checks of Kubernetes objects", () => {
    const findings = objects.flatMap((o) => {
      const manifest = o.toJSON() as Json;
      const w = workloadOfKubernetes(`${o.kind}/${o.metadata?.name}`, manifest);
      return [
        ...kubernetesPublishFindings(o.kind, manifest),
        ...kubernetesSecretFindings(o.kind, manifest),
        ...(w?.hostControl ?? []),
        ...(w?.limits ?? []),
        ...(w?.containers ?? []).flatMap((c) => [...hostControlFindings(c), ...limitsFindings(c), ...portFindings(c), ...(imageProblem(c.image) === undefined ? [] : [{ message: imageProblem(c.image) }])]),
      ];
    });
    expect(findings).toEqual([]);
  });

  test("labels every object with the course and the student", () => {
    for (const o of objects) expect(o.metadata?.labels).toMatchObject({ course: "m2iot", student: "alice" });
  });

  test("refuses a namespace that is not a DNS label and a service without settings", () => {
    expect(() => renderStudentBundle({ ...baseProps(), namespace: "M2IOT_alice" })).toThrow(/namespace must be a DNS label.*"M2IOT_alice"/);
    expect(() => renderStudentBundle({ ...baseProps(), settings: {} })).toThrow(/settings\.\w+ is missing/);
  });

  test("reads Docker's healthcheck durations", () => {
    expect(seconds("30s")).toBe(30);
    expect(seconds("1m30s")).toBe(90);
    expect(() => seconds("30")).toThrow(/got "30"/);
  });
});

function baseProps() {
  return {
    namespace: "m2iot-alice",
    course: "m2iot",
    student: "alice",
    services: localDescriptions(),
    settings: SETTINGS,
    secretName: "week-secrets",
    ingress: { className: "nginx" },
    ingressControllerNamespace: "ingress-nginx",
  };
}
