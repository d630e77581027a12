/**
 * What synth defers to deploy time, run through real Terraform: the missing Heroku app name and
 * Google Cloud project stop `terraform plan` with a message naming the setting, and the Jupyter
 * token falls back to a generated value only when none is given.
 */
import { Testing, TerraformOutput, TerraformStack } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { GeneratedSecret } from "../constructs/shared/generated-secret";
import { GcpStack } from "../stacks/gcp-stack";
import { HerokuStack } from "../stacks/heroku-stack";
import { testApp, weekConfig, type SynthOutput } from "./helpers";
import { applyWithTerraform, describeWithTerraform } from "./terraform";

/** Only the variable `name` of a stack, with an output that needs it. */
function variableOnly(stack: TerraformStack, name: string) {
  const out = JSON.parse(Testing.synth(stack)) as SynthOutput;
  return { variable: { [name]: out.variable?.[name] }, output: { value: { value: `\${var.${name}}` } } };
}

describeWithTerraform("deploy-time checks in real Terraform", () => {
  jest.setTimeout(60000);

  describe("the Heroku app name", () => {
    const config = variableOnly(new HerokuStack(testApp(), "heroku", weekConfig()), "heroku_app_name");

    it("stops the plan when it is missing, naming heroku.appName and TF_VAR_heroku_app_name", () => {
      const run = applyWithTerraform(config);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("heroku.appName");
      expect(run.stderr).toContain("TF_VAR_heroku_app_name");
    });

    it("stops the plan when Heroku would refuse it, showing the value", () => {
      const run = applyWithTerraform(config, { vars: { heroku_app_name: "Week_API" } });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("Week_API");
    });

    it("accepts a valid name", () => {
      expect(applyWithTerraform(config, { vars: { heroku_app_name: "ada-week-api" } }).outputs).toEqual({ value: "ada-week-api" });
    });
  });

  describe("the Google Cloud project", () => {
    const config = variableOnly(new GcpStack(testApp(), "gcp", weekConfig()), "gcp_project");

    it("stops the plan when it is missing, naming gcp.project and TF_VAR_gcp_project", () => {
      const run = applyWithTerraform(config);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("gcp.project");
      expect(run.stderr).toContain("TF_VAR_gcp_project");
    });

    it("stops the plan on a malformed project id, showing the value", () => {
      const run = applyWithTerraform(config, { vars: { gcp_project: "My Project" } });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("My Project");
    });

    it("takes the configured project without being asked", () => {
      const configured = variableOnly(new GcpStack(testApp(), "gcp", weekConfig({ gcp: { project: "ada-week-2026" } })), "gcp_project");
      expect(applyWithTerraform(configured).outputs).toEqual({ value: "ada-week-2026" });
    });
  });

  describe("a generated secret", () => {
    function tokenConfig() {
      const stack = new TerraformStack(testApp(), "local");
      new RandomProvider(stack, "random", {});
      const secret = new GeneratedSecret(stack, "token", { variableName: "jupyter_token", description: "Jupyter's token." });
      new TerraformOutput(stack, "token_out", { value: secret.value, sensitive: true });
      const out = JSON.parse(Testing.synth(stack)) as SynthOutput & { output: Record<string, { value: string }> };
      const generated = `random_password.${Object.keys(out.resource?.random_password ?? {})[0]}.result`;
      return {
        variable: out.variable,
        output: { token: { value: `\${nonsensitive(${out.output.token_out.value.slice(2, -1).split(generated).join('"generated"')})}` } },
      };
    }

    it("is the value given at deploy time", () => {
      expect(applyWithTerraform(tokenConfig(), { vars: { jupyter_token: "given-token" } }).outputs).toEqual({ token: "given-token" });
    });

    it("is the generated value when the variable is left empty", () => {
      expect(applyWithTerraform(tokenConfig()).outputs).toEqual({ token: "generated" });
    });
  });
});
