import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";

/** What Google Cloud accepts as a project id. */
import { GCP_PROJECT_ID_PATTERN } from "../../config/platforms";

export interface GcpProjectProps {
  /**
   * The project id from `week.config.json`; it becomes the variable's default.
   * @default - none: TF_VAR_gcp_project must be given at deploy time
   */
  readonly configured?: string;
}

/**
 * The Google Cloud project, from `gcp.project` or from `TF_VAR_gcp_project`.
 *
 * Synth works without one; `terraform plan` stops with a message naming both places when
 * neither gives a valid project id.
 */
export class GcpProject extends Construct {
  /** The project id, as a Terraform expression. */
  readonly id: string;
  readonly variable: TerraformVariable;

  constructor(scope: Construct, id: string, props: GcpProjectProps = {}) {
    super(scope, id);
    if (props.configured !== undefined && !new RegExp(GCP_PROJECT_ID_PATTERN).test(props.configured)) {
      throw new Error(
        `${this.node.path}: gcp.project must be a Google Cloud project id (6 to 30 lowercase letters, digits or dashes, starting with a letter), got ${JSON.stringify(props.configured)}`,
      );
    }
    this.variable = new TerraformVariable(this, "variable", {
      type: "string",
      default: props.configured ?? "",
      nullable: false,
      description: "Google Cloud project id (gcp.project in week.config.json, or TF_VAR_gcp_project).",
    });
    this.variable.overrideLogicalId("gcp_project");
    this.variable.addValidation({
      condition: Fn.can(Fn.regex(GCP_PROJECT_ID_PATTERN, this.variable.stringValue)),
      errorMessage:
        "Set gcp.project in week.config.json (or TF_VAR_gcp_project) to the id of the Google Cloud project to deploy to: " +
        `6 to 30 lowercase letters, digits or dashes, starting with a letter; got "${this.variable.stringValue}".`,
    });
    this.id = this.variable.stringValue;
  }
}
