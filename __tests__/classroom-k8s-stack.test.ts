/**
 * The classroom on Kubernetes: the same roster and service descriptions as the classroom stack,
 * a namespace per student, every object validated against the Kubernetes schemas, no secret in
 * the document, images pushed to the class's registry and run by digest.
 */
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { parseRoster, type Roster } from "../config/roster";
import type { WeekConfigInput } from "../config/schema";
import { Manifest as ManifestResource } from "@cdktf/provider-kubernetes/lib/manifest";
import { PolicyPack, WEEK_RULES } from "../policies";
import { KUBERNETES_IMAGE_USERS } from "../constructs/kubernetes/class-cluster";
import { WORKLOADS } from "../constructs/paths";
import { ClassroomKubernetesStack } from "../stacks/classroom-k8s-stack";
import { ClassroomStack } from "../stacks/classroom-stack";
import { problemsOf, resourcesOf, stableSynth, testApp, weekConfig, type SynthOutput } from "./helpers";

const roster = (...ids: string[]): Roster => parseRoster(`id,name,email\n${ids.map((id) => `${id},Student ${id},${id}@example.com`).join("\n")}\n`, "roster.csv");

function synthCluster(ids: string[], classroom: WeekConfigInput["classroom"] = {}) {
  const config = weekConfig({
    classroom: {
      course: "m2",
      services: ["sandbox", "database", "api"],
      kubernetes: { registry: "registry.example.org/m2", host: "lab.example.org" },
      ...classroom,
      roster: "roster.csv",
    },
  });
  const app = testApp();
  const classroomStack = new ClassroomStack(app, "classroom", { config, roster: roster(...ids) });
  const bundles = classroomStack.bundles.map((b) => ({ student: b.student, services: b.services }));
  const stack = new ClassroomKubernetesStack(app, "classroom-k8s", { config, bundles });
  const json = Testing.synth(stack);
  return { stack, json, out: JSON.parse(json) as SynthOutput };
}

type Manifest = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };
const manifests = (out: SynthOutput) => Object.values(resourcesOf(out, "kubernetes_manifest")).map((r) => r.manifest as Manifest);

describe("ClassroomKubernetesStack", () => {
  const { stack, out, json } = synthCluster(["alice", "bob"]);
  const objects = manifests(out);

  test("matches the reviewed snapshot", () => {
    expect(stableSynth(stack)).toMatchSnapshot();
  });

  test("gives each student a namespace named after the course and the student, with everything in it", () => {
    expect(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name).sort()).toEqual(["m2-alice", "m2-bob"]);
    const alice = objects.filter((o) => o.metadata.namespace === "m2-alice").map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(alice).toEqual(
      expect.arrayContaining([
        "Deployment/api",
        "Deployment/sandbox",
        "StatefulSet/database",
        "Service/api",
        "Service/database",
        "Service/sandbox",
        "Ingress/week",
        "Ingress/week-stripped",
        "ResourceQuota/week",
        "LimitRange/week",
        "NetworkPolicy/default-deny",
        "NetworkPolicy/same-namespace",
        "NetworkPolicy/from-ingress-controller",
        "PersistentVolumeClaim/m2-alice-workspace-data",
      ]),
    );
    expect(Object.values(resourcesOf(out, "kubernetes_secret_v1")).map((s) => (s.metadata as { namespace: string }).namespace).sort()).toEqual(["m2-alice", "m2-bob"]);
  });

  test("keeps the manifests' Kubernetes field names as the API spells them", () => {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "api")!;
    expect(Object.keys(deployment)).toEqual(expect.arrayContaining(["apiVersion", "kind", "metadata", "spec"]));
    expect(json).not.toMatch(/"api_version"|"match_labels"|"container_port"/);
  });

  test("holds no secret value: the Secret's data are plan-time reads of the classroom's files", () => {
    const secret = Object.values(resourcesOf(out, "kubernetes_secret_v1"))[0];
    const data = secret.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(["JUPYTER_TOKEN", "POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER"]);
    expect(data.JUPYTER_TOKEN).toMatch(/^\$\{sensitive\(trimspace\(file\(local\.\w+\)\)\)\}$/);
    expect(JSON.stringify(out.locals)).toMatch(/state\/classroom\/m2\/alice\/jupyter_token/);
    expect(data.POSTGRES_PASSWORD).toMatch(/^\$\{local\.\w+\}$/);
  });

  test("runs the class's images from its registry by digest, and the database image as configured", () => {
    const images = objects.flatMap((o) => ((o.spec?.template as { spec?: { containers?: Array<{ image: string }> } })?.spec?.containers ?? []).map((c) => c.image));
    expect(new Set(images)).toEqual(
      new Set([
        expect.stringMatching(/^registry\.example\.org\/m2\/sandbox@\$\{docker_registry_image\.pushed_sandbox_pushed_\w+\.sha256_digest\}$/),
        expect.stringMatching(/^registry\.example\.org\/m2\/api@\$\{docker_registry_image\.pushed_api_pushed_\w+\.sha256_digest\}$/),
        "postgres:17.6-bookworm",
      ]),
    );
    expect(Object.keys(resourcesOf(out, "docker_registry_image"))).toHaveLength(2);
  });

  test("a roster change changes only that student's resources", () => {
    const keys = (o: SynthOutput) => new Set(Object.entries(o.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`)));
    const two = keys(out);
    const three = keys(synthCluster(["alice", "bob", "carol"]).out);
    const added = [...three].filter((k) => !two.has(k));
    expect(added.length).toBeGreaterThan(10);
    expect(added.every((k) => /_carol_/.test(k))).toBe(true);
    expect([...two].every((k) => three.has(k))).toBe(true);
  });

  test("refuses to destroy a namespace and its workspace claim while database.protectVolume is on", () => {
    const lifecycleOf = (o: SynthOutput, kind: string) =>
      Object.values(resourcesOf(o, "kubernetes_manifest")).filter((r) => (r.manifest as Manifest).kind === kind).map((r) => (r.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy);
    expect(lifecycleOf(out, "Namespace")).toEqual([true, true]);
    expect(lifecycleOf(out, "PersistentVolumeClaim")).toEqual([true, true]);
    const config = weekConfig({ database: { protectVolume: false }, classroom: { course: "m2", kubernetes: { registry: "r.example.org/m2" }, roster: "roster.csv" } });
    const app = testApp();
    const classroomStack = new ClassroomStack(app, "classroom", { config, roster: roster("alice") });
    const open = new ClassroomKubernetesStack(app, "classroom-k8s", { config, bundles: classroomStack.bundles.map((b) => ({ student: b.student, services: b.services })) });
    expect(lifecycleOf(JSON.parse(Testing.synth(open)) as SynthOutput, "Namespace")).toEqual([false]);
  });

  test("keeps each image's numeric user equal to its Dockerfile's", () => {
    const uidIn = (dockerfile: string) => /useradd[^\n]*--uid (\d+)/.exec(fs.readFileSync(dockerfile, "utf8"))?.[1];
    expect(Number(uidIn(path.join(WORKLOADS, "api", "Dockerfile")))).toBe(KUBERNETES_IMAGE_USERS.api);
    expect(Number(uidIn(path.join(WORKLOADS, "streamlit", "Dockerfile")))).toBe(KUBERNETES_IMAGE_USERS.streamlit);
    expect(Number(uidIn(path.join(WORKLOADS, "sandbox", "Dockerfile")))).toBe(KUBERNETES_IMAGE_USERS.sandbox);
  });
});

describe("classroom.kubernetes configuration", () => {
  test("names the field and the problem", () => {
    expect(problemsOf({ classroom: { kubernetes: { registry: "Registry With Spaces" } } })).toEqual([expect.stringMatching(/^classroom\.kubernetes\.registry must be an image repository prefix.*got "Registry With Spaces"/)]);
    expect(problemsOf({ classroom: { kubernetes: {} } })).toEqual([expect.stringMatching(/^classroom\.kubernetes\.registry/)]);
    expect(problemsOf({ classroom: { kubernetes: { registry: "r.example.org/c", ingressClassName: "Nginx_1" } } })).toEqual([expect.stringMatching(/^classroom\.kubernetes\.ingressClassName must be a DNS label.*"Nginx_1"/)]);
  });
});

describe("the policy pack on classroom-k8s", () => {
  test("passes with no finding and no suppression", () => {
    const { stack } = synthCluster(["alice", "bob"]);
    const report = PolicyPack.applyTo(stack, WEEK_RULES).judge();
    expect(report.errors).toEqual([]);
    expect(report.suppressed ?? []).toEqual([]);
  });

  test("finds a root container, a NodePort and an unpinned image added to a student's namespace, under the Docker rules' ids", () => {
    const { stack } = synthCluster(["alice"]);
    const manifests = stack.node.findAll().filter((c): c is ManifestResource => c instanceof ManifestResource);
    const api = manifests.find((m) => (m.manifestInput as { kind?: string; metadata?: { name?: string } }).kind === "Deployment" && (m.manifestInput as { metadata: { name: string } }).metadata.name === "api")!;
    api.addOverride("manifest.spec.template.spec.containers.0.securityContext.runAsUser", 0);
    api.addOverride("manifest.spec.template.spec.containers.0.image", "registry.example.org/m2/api:latest");
    const service = manifests.find((m) => (m.manifestInput as { kind?: string }).kind === "Service")!;
    service.addOverride("manifest.spec.type", "NodePort");
    const errors = PolicyPack.applyTo(stack, WEEK_RULES).judge().errors.join("\n");
    expect(errors).toMatch(/\[WEEK-DOCKER-004\].*api\/api: the container's user overrides the image's non-root USER/);
    expect(errors).toMatch(/\[WEEK-DOCKER-001\].*latest/);
    expect(errors).toMatch(/\[WEEK-DOCKER-002\].*NodePort/);
  });
});

describe("the cluster's routes", () => {
  test("send /<id>/jupyter/ to Jupyter, whose base URL it is, and strip /<id>/api/ for the API", () => {
    const { out } = synthCluster(["alice"]);
    const ingresses = manifests(out).filter((o) => o.kind === "Ingress");
    const paths = ingresses.flatMap((i) => ((i.spec?.rules as Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string } } }> } }>)[0].http.paths).map((p) => [p.path, p.backend.service.name]));
    expect(paths).toEqual(expect.arrayContaining([["/alice/jupyter/", "sandbox"], ["/alice/api(/|$)(.*)", "api"]]));
    const sandbox = manifests(out).find((o) => o.kind === "Deployment" && o.metadata.name === "sandbox")!;
    const env = ((sandbox.spec?.template as { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } }).spec.containers[0].env ?? []).find((e) => e.name === "JUPYTER_BASE_URL");
    expect(env?.value).toBe("/alice/jupyter/");
  });
});
