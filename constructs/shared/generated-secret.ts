import { Fn, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { Password } from "@cdktf/provider-random/lib/password";

export interface GeneratedSecretProps {
  /** Name of the sensitive Terraform variable that may supply the value (`TF_VAR_<name>`). */
  readonly variableName: string;
  /** What the secret is for, shown by `terraform plan` when it asks. */
  readonly description: string;
  /**
   * Length of the generated value.
   * @default 32
   */
  readonly length?: number;
}

/**
 * A secret that is given at deploy time (`TF_VAR_<name>`) or else generated at apply time.
 *
 * Neither way puts the value into the synthesised JSON: it lives in Terraform state only,
 * and `value` is marked sensitive so plans and logs show `(sensitive value)`.
 */
export class GeneratedSecret extends Construct {
  /** The secret, as a sensitive Terraform expression. */
  readonly value: string;
  /** The variable that may supply it. */
  readonly variable: TerraformVariable;

  constructor(scope: Construct, id: string, props: GeneratedSecretProps) {
    super(scope, id);
    this.variable = new TerraformVariable(this, "variable", {
      type: "string",
      default: "",
      nullable: false,
      sensitive: true,
      description: `${props.description} Leave empty to generate one.`,
    });
    this.variable.overrideLogicalId(props.variableName);
    const generated = new Password(this, "generated", { length: props.length ?? 32, special: false });
    // coalesce skips empty strings: the variable when given, the generated value otherwise.
    this.value = Fn.sensitive(Fn.coalesce([this.variable.stringValue, generated.result]));
  }
}
