/** The sandbox for every TP (issue 8 §2): ssh key and DATABASE_URL at run time, extra app ports. */
import { Testing } from "cdktf";
import { LocalStack } from "../stacks/local-stack";
import { renderSandboxDockerfile } from "../constructs/local/sandbox-image";
import type { WeekConfigInput } from "../config/schema";
import { problemsOf, resourcesOf, testApp, weekConfig, type SynthOutput } from "./helpers";

function sandboxContainer(overrides: WeekConfigInput = {}): Record<string, unknown> {
  const out = JSON.parse(Testing.synth(new LocalStack(testApp(), "local", weekConfig(overrides)))) as SynthOutput;
  const found = Object.values(resourcesOf(out, "docker_container")).find((c) => c.name === "week-sandbox");
  if (found === undefined) throw new Error("no sandbox container");
  return found;
}

describe("sandbox for the course week", () => {
  const container = sandboxContainer();
  const env = container.env as string[];

  it("gets DATABASE_URL from the stack's database as a sensitive expression, never a literal", () => {
    const url = env.find((e) => e.startsWith("DATABASE_URL="));
    expect(url).toMatch(/^DATABASE_URL=\$\{sensitive\(".*@database:5432\/.*"\)\}$/);
  });

  it("gets the ssh key from a sensitive variable at run time only", () => {
    expect(env).toContain("GIT_SSH_KEY=${var.git_ssh_key}");
    const out = JSON.parse(Testing.synth(new LocalStack(testApp(), "local", weekConfig()))) as SynthOutput;
    expect(out.variable?.git_ssh_key).toMatchObject({ sensitive: true, default: "" });
    expect(renderSandboxDockerfile({ gitUserName: "A", gitUserEmail: "a@b.c" })).not.toMatch(/GIT_SSH_KEY=|id_ed25519|id_rsa/);
  });

  it("publishes no extra port by default and the configured ones on loopback", () => {
    expect(container.ports).toHaveLength(1);
    const ports = sandboxContainer({ sandbox: { extraPorts: [{ containerPort: 8501, hostPort: 18501 }, { containerPort: 8080, hostPort: 18080 }] } }).ports;
    expect(ports).toEqual([
      { internal: 8000, external: 8000, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8501, external: 18501, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8080, external: 18080, ip: "127.0.0.1", protocol: "tcp" },
    ]);
  });

  it("installs openssh-client and gives the virtual environment to the user", () => {
    const dockerfile = renderSandboxDockerfile({ gitUserName: "A", gitUserEmail: "a@b.c", user: "ada" });
    expect(dockerfile).toMatch(/apt-get install [^\n]*openssh-client/);
    const lines = dockerfile.split("\n");
    const venv = lines.indexOf("RUN python3 -m venv /opt/venv");
    expect(lines.slice(0, venv).reverse().find((l) => l.startsWith("USER "))).toBe("USER ada");
    expect(lines.filter((l) => l.startsWith("USER ")).at(-1)).toBe("USER ada");
  });

  it.each([
    [{ sandbox: { extraPorts: [{ containerPort: 8000, hostPort: 9000 }] } }, "sandbox.extraPorts must not use containerPort 8000"],
    [{ sandbox: { extraPorts: [{ containerPort: 8501, hostPort: 1 }, { containerPort: 8501, hostPort: 2 }] } }, "sandbox.extraPorts must not list a containerPort twice"],
    [{ sandbox: { extraPorts: [{ containerPort: 8501, hostPort: 8080 }] } }, "api.hostPort is already used by sandbox.extraPorts.0.hostPort"],
    [{ sandbox: { extraPorts: [{ containerPort: 0, hostPort: 9000 }] } }, "sandbox.extraPorts.0.containerPort must be a whole number between 1 and 65535"],
    [{ sandbox: { extraPorts: [{ containerPort: 8501 }] } }, "sandbox.extraPorts.0.hostPort"],
  ])("refuses %j", (raw, message) => {
    expect(problemsOf(raw).join("\n")).toContain(message);
  });
});
