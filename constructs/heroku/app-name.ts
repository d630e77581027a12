import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";

import { herokuAppNamePattern } from "../../config/platforms";

export interface HerokuAppNameProps {
  /**
   * The name from `week.config.json`; it becomes the variable's default.
   * @default - none: TF_VAR_<variableName> must be given at deploy time
   */
  readonly configured?: string;
  /**
   * Longest name accepted (27 leaves room for a `-ui` suffix).
   * @default 30
   */
  readonly maxLength?: number;
  /**
   * The Terraform variable (`TF_VAR_<name>` sets it at deploy time).
   * @default heroku_app_name
   */
  readonly variableName?: string;
  /**
   * The configuration field named in the deploy-time error.
   * @default heroku.appName
   */
  readonly field?: string;
}

/**
 * The name of a Heroku app, from the configuration or from `TF_VAR_heroku_app_name`.
 *
 * Synth never needs it: a missing or malformed name is reported by `terraform plan`
 * through the variable's validation, naming the configuration field and the variable.
 */
export class HerokuAppName extends Construct {
  /** The name, as a Terraform expression. */
  readonly value: string;
  readonly variable: TerraformVariable;

  constructor(scope: Construct, id: string, props: HerokuAppNameProps = {}) {
    super(scope, id);
    const maxLength = props.maxLength ?? 30;
    if (!Number.isInteger(maxLength) || maxLength < 3 || maxLength > 30) {
      throw new Error(`${this.node.path}: maxLength must be a whole number between 3 and 30, got ${maxLength}`);
    }
    const variableName = props.variableName ?? "heroku_app_name";
    const field = props.field ?? "heroku.appName";
    if (props.configured !== undefined && !new RegExp(herokuAppNamePattern(maxLength)).test(props.configured)) {
      throw new Error(
        `${this.node.path}: ${field} must be 3 to ${maxLength} characters of lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got ${JSON.stringify(props.configured)}`,
      );
    }
    this.variable = new TerraformVariable(this, "variable", {
      type: "string",
      default: props.configured ?? "",
      nullable: false,
      description: `Name of the Heroku app (${field} in week.config.json, or TF_VAR_${variableName}).`,
    });
    this.variable.overrideLogicalId(variableName);
    this.variable.addValidation({
      condition: Fn.can(Fn.regex(herokuAppNamePattern(maxLength), this.variable.stringValue)),
      errorMessage:
        `Set ${field} in week.config.json (or TF_VAR_${variableName}) to the app's name: 3 to ${maxLength} characters of ` +
        `lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit; got "${this.variable.stringValue}".`,
    });
    this.value = this.variable.stringValue;
  }
}
