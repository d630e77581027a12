import { Testing } from "cdktf";
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { LocalStack } from "../stacks/local-stack";
import { resourcesOf, stableSynth, testApp, weekConfig, type SynthOutput } from "./helpers";
import type { WeekConfigInput } from "../config/schema";

function synthLocal(overrides: WeekConfigInput = {}): { json: string; out: SynthOutput; stack: LocalStack } {
  const stack = new LocalStack(testApp(), "local", weekConfig(overrides));
  const json = Testing.synth(stack);
  return { json, out: JSON.parse(json) as SynthOutput, stack };
}

function containers(out: SynthOutput): Record<string, Record<string, unknown>> {
  const byName: Record<string, Record<string, unknown>> = {};
  for (const container of Object.values(resourcesOf(out, "docker_container"))) byName[container.name as string] = container;
  return byName;
}

describe("LocalStack", () => {
  const { json, out, stack } = synthLocal();
  const all = containers(out);

  it("matches the reviewed snapshot", () => {
    expect(stableSynth(stack)).toMatchSnapshot();
  });

  it("runs the four services of the week", () => {
    expect(Object.keys(all).sort()).toEqual(["week-api", "week-database", "week-sandbox", "week-streamlit"]);
  });

  it("puts every container on one private network under its service name", () => {
    expect(json).toHaveResourceWithProperties(Network, { name: "week", driver: "bridge" });
    const aliases = Object.values(all).map((c) => (c.networks_advanced as Array<{ aliases: string[] }>)[0].aliases[0]);
    expect(aliases.sort()).toEqual(["api", "database", "sandbox", "streamlit"]);
    for (const container of Object.values(all)) {
      expect(container.networks_advanced).toEqual([expect.objectContaining({ name: expect.stringMatching(/^\$\{docker_network\.network_[0-9A-F]{8}\.name\}$/) })]);
    }
  });

  it("binds every host port to loopback by default", () => {
    const bindings = Object.values(all).flatMap((c) => c.ports as Array<{ ip: string; external: number; internal: number }>);
    expect(bindings.map((p) => p.ip)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"]);
    expect(all["week-sandbox"].ports).toEqual([expect.objectContaining({ internal: 8000, external: 8000 })]);
    expect(all["week-api"].ports).toEqual([expect.objectContaining({ internal: 8000, external: 8080 })]);
  });

  it("opens host ports on every interface only when the configuration says so", () => {
    const opened = containers(synthLocal({ network: { publishOnAllInterfaces: true } }).out);
    for (const container of Object.values(opened)) {
      expect(container.ports).toEqual([expect.objectContaining({ ip: "0.0.0.0" })]);
    }
  });

  it("gives every container a healthcheck, a memory limit, a restart policy and bounded logs", () => {
    for (const container of Object.values(all)) {
      expect((container.healthcheck as { test: string[] }).test.length).toBeGreaterThan(0);
      expect(container.memory).toBeGreaterThanOrEqual(128);
      expect(container.restart).toBe("unless-stopped");
      expect(container.log_opts).toEqual({ "max-size": "10m", "max-file": "3" });
    }
    expect((all["week-database"].healthcheck as { test: string[] }).test.join(" ")).toContain("pg_isready");
    expect((all["week-api"].healthcheck as { test: string[] }).test.join(" ")).toContain("/health");
    expect((all["week-streamlit"].healthcheck as { test: string[] }).test.join(" ")).toContain("/_stcore/health");
  });

  it("pins the PostgreSQL image and tags built images with their context hash", () => {
    expect(json).toHaveResourceWithProperties(Image, { name: "postgres:17.6-bookworm", keep_locally: true });
    const built = Object.values(resourcesOf(out, "docker_image")).filter((i) => i.build !== undefined);
    expect(built.map((i) => i.name as string).sort()).toEqual([
      expect.stringMatching(/^week-api:[0-9a-f]{12}$/),
      expect.stringMatching(/^week-sandbox:[0-9a-f]{12}$/),
      expect.stringMatching(/^week-streamlit:[0-9a-f]{12}$/),
    ]);
    for (const image of built) {
      expect((image.build as { context: string }).context).toMatch(/^assets\/[^/]+\/[A-F0-9]+$/);
      expect(image.triggers).toEqual({ context: expect.stringMatching(/^[A-F0-9]+$/) });
    }
  });

  it("keeps the database in the named volume database-data, protected from destroy", () => {
    expect(json).toHaveResourceWithProperties(Volume, { name: "database-data", lifecycle: { prevent_destroy: true } });
    expect(all["week-database"].volumes).toEqual([
      { volume_name: expect.stringMatching(/^\$\{docker_volume\.database_data_[0-9A-F]{8}\.name\}$/), container_path: "/var/lib/postgresql/data" },
    ]);
  });

  it("keeps the notebooks in a named volume mounted on the workspace", () => {
    expect(json).toHaveResourceWithProperties(Volume, { name: "workspace-data", lifecycle: { prevent_destroy: true } });
    expect(all["week-sandbox"].volumes).toEqual([
      expect.objectContaining({ container_path: "/home/student/workspace" }),
    ]);
  });

  it("lets the volumes be destroyed only when protectVolume is off", () => {
    const unprotected = synthLocal({ database: { protectVolume: false } }).out;
    for (const volume of Object.values(resourcesOf(unprotected, "docker_volume"))) {
      expect(volume.lifecycle).toEqual({ prevent_destroy: false });
    }
  });

  it("starts the API after the database is healthy and Streamlit after the API", () => {
    expect(all["week-database"].wait).toBe(true);
    expect(all["week-api"].depends_on).toEqual([expect.stringMatching(/^docker_container\.database_service_container_[0-9A-F]{8}$/)]);
    expect(all["week-streamlit"].depends_on).toEqual([expect.stringMatching(/^docker_container\.api_workload_service_container_[0-9A-F]{8}$/)]);
    expect(all["week-streamlit"].env).toContain("API_URL=http://api:8000");
  });

  it("leaves Streamlit out when it is disabled", () => {
    const { out: without } = synthLocal({ streamlit: { enabled: false } });
    expect(Object.keys(containers(without)).sort()).toEqual(["week-api", "week-database", "week-sandbox"]);
    expect(without.output?.streamlit_url).toBeUndefined();
  });

  it("outputs the URLs and commands, with the token and password sensitive", () => {
    const outputs = out.output ?? {};
    expect(Object.keys(outputs).sort()).toEqual([
      "api_docs_url",
      "database_dump_command",
      "database_password",
      "database_restore_command",
      "jupyter_token",
      "jupyter_url",
      "psql_command",
      "streamlit_url",
    ]);
    expect(outputs.jupyter_url.value).toBe("http://127.0.0.1:8000/tree");
    expect(outputs.api_docs_url.value).toBe("http://127.0.0.1:8080/docs");
    expect(outputs.streamlit_url.value).toBe("http://127.0.0.1:8501");
    expect(outputs.jupyter_token.sensitive).toBe(true);
    expect(outputs.database_password.sensitive).toBe(true);
    expect(outputs.psql_command.value).toMatch(/^docker exec -it \$\{docker_container\.[^}]+\.name\} psql -U \$\{local\.[^}]+\} -d \$\{local\.[^}]+\}$/);
  });

  it("stores its state in state/terraform.local.tfstate, outside cdktf.out", () => {
    expect((out.terraform as { backend: unknown }).backend).toEqual({ local: { path: "../../../state/terraform.local.tfstate", workspace_dir: "../../../state/local.tfstate.d" } });
  });
});

describe("LocalStack secrets", () => {
  const { out } = synthLocal();
  const all = containers(out);

  it("takes the Jupyter token from a sensitive variable or generates one", () => {
    expect(out.variable?.jupyter_token).toEqual(expect.objectContaining({ sensitive: true, default: "" }));
    const env = all["week-sandbox"].env as string[];
    const token = env.find((e) => e.startsWith("JUPYTER_TOKEN="));
    expect(token).toMatch(/^JUPYTER_TOKEN=\$\{sensitive\(coalesce\(var\.jupyter_token, random_password\.[^.]+\.result\)\)\}$/);
  });

  it("passes the git credential at run time only, from a sensitive variable", () => {
    expect(out.variable?.git_token).toEqual(expect.objectContaining({ sensitive: true, default: "" }));
    expect(all["week-sandbox"].env).toContain("GIT_TOKEN=${var.git_token}");
  });

  it("reads database.env at plan time and never at synth", () => {
    const locals = JSON.stringify(out.locals);
    expect(locals).toContain('"${path.module}/../../../database.env"');
    expect(locals).toMatch(/fileexists\(local\.database_env_file_path_[0-9A-F]{8}\)/);
    expect(locals).toContain("POSTGRES_PASSWORD");
    const env = all["week-database"].env as string[];
    expect(env).toEqual([
      expect.stringMatching(/^POSTGRES_USER=\$\{local\.[^}]+\}$/),
      expect.stringMatching(/^POSTGRES_PASSWORD=\$\{local\.[^}]+\}$/),
      expect.stringMatching(/^POSTGRES_DB=\$\{local\.[^}]+\}$/),
    ]);
  });

  it("writes database.env with mode 0600 only when it is absent", () => {
    const writer = Object.values(resourcesOf(out, "terraform_data"))[0] as {
      provisioner: Array<{ "local-exec": { command: string; environment: Record<string, string> } }>;
    };
    const exec = writer.provisioner[0]["local-exec"];
    expect(exec.command).toContain('if [ -e "$ENV_FILE" ]');
    expect(exec.command).toContain("umask 077");
    expect(exec.environment.POSTGRES_PASSWORD).toMatch(/^\$\{local\./);
  });

  it("hands the API its database URL as an expression, not a value", () => {
    const env = all["week-api"].env as string[];
    expect(env).toContainEqual(expect.stringMatching(/^DATABASE_URL=\$\{sensitive\("postgresql:\/\/\$\{local\.[^}]+\}:\$\{urlencode\(local\.[^)]+\)\}@database:5432\/\$\{local\.[^}]+\}"\)\}$/));
  });
});

describe("LocalStack sandbox image", () => {
  it("renders the TP1 Dockerfile from the configuration", () => {
    const { stack } = synthLocal({ sandbox: { gitUserName: "Ada Lovelace", gitUserEmail: "ada@example.com" } });
    const dockerfile = (stack.node.findChild("sandbox").node.findChild("image") as unknown as { dockerfile: string }).dockerfile;
    expect(dockerfile).toMatchSnapshot();
    expect(dockerfile).toContain("ARG BASE_IMAGE=ubuntu:24.04");
    expect(dockerfile).toContain("apt-get install -y --no-install-recommends python3 python3-pip python3-venv vim git");
    expect(dockerfile).toContain("rm -rf /var/lib/apt/lists/*");
    expect(dockerfile).toContain("pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: -r /tmp/requirements.lock");
    expect(dockerfile).toContain('GIT_USER_NAME="Ada Lovelace"');
    expect(dockerfile).toContain("EXPOSE 8000");
    expect(dockerfile).toMatch(/\nUSER student\n/);
    expect(dockerfile).not.toMatch(/^(ARG|ENV)\b.*(TOKEN|PASSWORD)/im);
    expect(dockerfile).not.toContain("deep-learning");
  });

  it("escapes quotes and dollars in the git identity", () => {
    const { stack } = synthLocal({ sandbox: { gitUserName: 'Ada "$HOME" Lovelace' } });
    const dockerfile = (stack.node.findChild("sandbox").node.findChild("image") as unknown as { dockerfile: string }).dockerfile;
    expect(dockerfile).toContain('GIT_USER_NAME="Ada \\"\\$HOME\\" Lovelace"');
  });
});

describe("Container sanity", () => {
  it("has no privileged container and no mounted Docker socket", () => {
    const { out } = synthLocal();
    for (const container of Object.values(containers(out))) {
      expect(container.privileged).toBeUndefined();
      expect(JSON.stringify(container.volumes ?? [])).not.toContain("docker.sock");
    }
    expect(Container.tfResourceType).toBe("docker_container");
  });
});

describe("volumes named after the network", () => {
  const volumeNames = (out: SynthOutput) => Object.values(resourcesOf(out, "docker_volume")).map((v) => v.name as string).sort();

  it("keeps the course's names database-data and workspace-data on the default network", () => {
    expect(volumeNames(synthLocal().out)).toEqual(["database-data", "workspace-data"]);
  });

  it("gives a second configuration on the same engine its own volumes, mounted by its containers", () => {
    const { out } = synthLocal({ network: { name: "week2" } });
    expect(volumeNames(out)).toEqual(["week2-database-data", "week2-workspace-data"]);
    const mounted = Object.values(containers(out)).flatMap((c) => (c.volumes as Array<{ volume_name: string }> | undefined) ?? []);
    expect(mounted.map((m) => m.volume_name).sort()).toEqual([
      expect.stringMatching(/^\$\{docker_volume\.database_data_[0-9A-F]{8}\.name\}$/),
      expect.stringMatching(/^\$\{docker_volume\.sandbox_workspace_[0-9A-F]{8}\.name\}$/),
    ]);
  });
});
