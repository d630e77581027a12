import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing, TerraformStack } from "cdktf";
import { BuildContext } from "../constructs/shared/build-context";
import type { ContextEntry } from "../constructs/shared/context-filter";
import { postgresDataPath } from "../constructs/local/postgres-service";
import { PrivateNetwork } from "../constructs/local/private-network";
import { SandboxImage } from "../constructs/local/sandbox-image";
import { ServiceContainer } from "../constructs/local/service-container";
import { testApp } from "./helpers";

function stack(): TerraformStack {
  return new TerraformStack(testApp(), "test");
}

describe("BuildContext", () => {
  const include: ContextEntry[] = [{ folder: "app", suffixes: [".py"] }];
  let source: string;
  beforeEach(() => {
    source = fs.mkdtempSync(path.join(os.tmpdir(), "week-src-"));
    fs.mkdirSync(path.join(source, "app", "__pycache__"), { recursive: true });
    fs.writeFileSync(path.join(source, "app", "main.py"), "print('hello')\n");
    fs.writeFileSync(path.join(source, "app", "__pycache__", "main.cpython-311.pyc"), "bytecode");
    fs.writeFileSync(path.join(source, "model.joblib"), "trained");
    fs.writeFileSync(path.join(source, "Dockerfile"), "FROM scratch\n");
  });
  afterEach(() => fs.rmSync(source, { recursive: true, force: true }));

  it("stages the sources and leaves caches and trained models out", () => {
    const context = new BuildContext(stack(), "ctx", { source, include });
    expect(fs.existsSync(path.join(context.stagedAt, "app", "main.py"))).toBe(true);
    expect(fs.existsSync(path.join(context.stagedAt, "app", "__pycache__"))).toBe(false);
    expect(fs.existsSync(path.join(context.stagedAt, "model.joblib"))).toBe(false);
  });

  it("hashes the same sources to the same tag, whatever caches lie around", () => {
    const before = new BuildContext(stack(), "ctx", { source, include }).hash;
    fs.writeFileSync(path.join(source, "app", "__pycache__", "other.pyc"), "more bytecode");
    expect(new BuildContext(stack(), "ctx", { source, include }).hash).toBe(before);
  });

  it("changes the hash when a source changes", () => {
    const before = new BuildContext(stack(), "ctx", { source, include }).hash;
    fs.writeFileSync(path.join(source, "app", "main.py"), "print('changed')\n");
    expect(new BuildContext(stack(), "ctx", { source, include }).hash).not.toBe(before);
  });

  it("copies only what include names, plus the generated files", () => {
    const context = new BuildContext(stack(), "ctx", { source, include: ["app/main.py"], files: { Dockerfile: "FROM ubuntu:24.04\n" } });
    expect(fs.readdirSync(context.stagedAt).sort()).toEqual(["Dockerfile", "app"]);
    expect(fs.readFileSync(path.join(context.stagedAt, "Dockerfile"), "utf8")).toBe("FROM ubuntu:24.04\n");
  });

  it("fails on a missing source folder or include, naming it", () => {
    expect(() => new BuildContext(stack(), "ctx", { source: path.join(source, "nope") })).toThrow(/build context source must be a folder, got ".*nope"/);
    expect(() => new BuildContext(stack(), "ctx", { source, include: ["missing.txt"] })).toThrow(`test/ctx: build context refuses ${path.join(source, "missing.txt")}: it does not exist`);
  });
});

describe("ServiceContainer", () => {
  const base = {
    alias: "svc",
    image: { terraform: "busybox:1.37", pull: "busybox:1.37" },
    ports: [{ container: 80, host: 8081 }],
    memoryMiB: 128,
    healthcheck: { test: ["CMD", "true"], interval: "5s", timeout: "3s", retries: 3, startPeriod: "5s" },
  };

  it("refuses a host port out of range, naming it", () => {
    const s = stack();
    const network = new PrivateNetwork(s, "net");
    expect(() => new ServiceContainer(s, "svc", { ...base, network, ports: [{ container: 80, host: 70000 }] })).toThrow("test/svc: hostPort must be between 1 and 65535, got 70000");
  });

  it("refuses a memory limit too small to run anything", () => {
    const s = stack();
    const network = new PrivateNetwork(s, "net");
    expect(() => new ServiceContainer(s, "svc", { ...base, network, memoryMiB: 0 })).toThrow("memoryMiB must be a whole number of at least 64, got 0");
  });

  it("publishes on loopback unless the network is opened", () => {
    const s = stack();
    const network = new PrivateNetwork(s, "net", { name: "class-a" });
    const svc = new ServiceContainer(s, "svc", { ...base, network });
    const json = JSON.parse(Testing.synth(s));
    const container = Object.values(json.resource.docker_container)[0] as { name: string; ports: Array<{ ip: string }> };
    expect(container.name).toBe("class-a-svc");
    expect(container.ports[0].ip).toBe("127.0.0.1");
    expect(svc.hostUrl).toBe("http://127.0.0.1:8081");
  });
});

describe("SandboxImage", () => {
  it("refuses an empty git user name, naming the field", () => {
    expect(() => new SandboxImage(stack(), "img", { gitUserName: " ", gitUserEmail: "a@b.c" })).toThrow('test/img: gitUserName must be a non-empty single line, got " "');
  });

  it("refuses a malformed e-mail, naming the field", () => {
    expect(() => new SandboxImage(stack(), "img", { gitUserName: "Ada", gitUserEmail: "ada" })).toThrow('gitUserEmail must be an e-mail address, got "ada"');
  });

  it("refuses to run Jupyter as root", () => {
    expect(() => new SandboxImage(stack(), "img", { gitUserName: "Ada", gitUserEmail: "a@b.c", user: "root" })).toThrow('user must not be root, got "root"');
  });
});

describe("postgresDataPath", () => {
  it.each([
    ["postgres:16.4-bookworm", "/var/lib/postgresql/data"],
    ["postgres:17.6-bookworm", "/var/lib/postgresql/data"],
    ["postgres:18.1-trixie", "/var/lib/postgresql"],
  ])("mounts %s's data where that version keeps it", (image, expected) => {
    expect(postgresDataPath(image)).toBe(expected);
  });
});
