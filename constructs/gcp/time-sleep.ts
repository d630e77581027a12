import * as cdktf from "cdktf";
import { Construct } from "constructs";

/**
 * hashicorp/time, pinned like the prebuilt providers. No prebuilt binding is installed
 * (@cdktf/provider-time would be one more dependency for a single resource), so this file
 * describes the two things the week uses by hand: the provider and `time_sleep`.
 */
const TIME_PROVIDER = { providerName: "time", providerVersion: "0.13.1" } as const;

/** The hashicorp/time provider; it takes no settings. */
export class TimeProvider extends cdktf.TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      terraformResourceType: "time",
      terraformGeneratorMetadata: TIME_PROVIDER,
      terraformProviderSource: "hashicorp/time",
    });
  }
}

export interface TimeSleepConfig extends cdktf.TerraformMetaArguments {
  /** How long to wait after creation, as a duration such as `60s` or `2m`. */
  readonly createDuration: string;
  /**
   * Values that, when they change, replace the resource and so wait again.
   * @default - none
   */
  readonly triggers?: Record<string, string>;
}

/** `time_sleep`: waits at creation, for APIs and IAM that take effect some time after they answer. */
export class TimeSleep extends cdktf.TerraformResource {
  static readonly tfResourceType = "time_sleep";
  readonly createDuration: string;
  readonly triggers?: Record<string, string>;

  constructor(scope: Construct, id: string, config: TimeSleepConfig) {
    super(scope, id, {
      terraformResourceType: TimeSleep.tfResourceType,
      terraformGeneratorMetadata: TIME_PROVIDER,
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach,
    });
    if (!cdktf.Token.isUnresolved(config.createDuration) && !/^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/.test(config.createDuration)) {
      throw new Error(`${this.node.path}: createDuration must be a number followed by ms, s, m or h (such as 60s), got ${JSON.stringify(config.createDuration)}`);
    }
    this.createDuration = config.createDuration;
    this.triggers = config.triggers;
  }

  /** When the wait ended (RFC 3339). */
  get id(): string {
    return this.getStringAttribute("id");
  }

  protected synthesizeAttributes(): { [name: string]: unknown } {
    return {
      create_duration: cdktf.stringToTerraform(this.createDuration),
      triggers: cdktf.hashMapper(cdktf.stringToTerraform)(this.triggers),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: unknown } {
    const attrs = {
      create_duration: { value: cdktf.stringToHclTerraform(this.createDuration), isBlock: false, type: "simple", storageClassType: "string" },
      triggers: { value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this.triggers), isBlock: false, type: "map", storageClassType: "stringMap" },
    };
    return Object.fromEntries(Object.entries(attrs).filter(([, a]) => a.value !== undefined));
  }
}
