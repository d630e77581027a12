import * as fs from "fs";
import * as path from "path";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { Addon } from "../../imports/providers/heroku/addon";
import { App } from "../../imports/providers/heroku/app";
import { Build } from "../../imports/providers/heroku/build";
import { Formation } from "../../imports/providers/heroku/formation";
import { BuildContext } from "../shared/build-context";
import type { WorkloadContext } from "../shared/workload-contexts";
import { HEROKU_DYNO_SIZES, HEROKU_POSTGRES_PLAN, HEROKU_REGIONS, herokuAppNamePattern } from "../../config/platforms";
import { WEEK_DEFAULTS } from "../../config/defaults";

export interface HerokuContainerAppProps {
  /** App name (globally unique on Heroku); a Terraform expression is checked at plan time instead. */
  readonly name: string;
  /** Folder with the Dockerfile and the `heroku.yml` that names it for the `web` process. */
  readonly source: string;
  /**
   * What the build context (the source Heroku builds) admits from the folder (workload-contexts.ts).
   * @default - nothing but the build files (Dockerfile, heroku.yml)
   */
  readonly contents?: WorkloadContext;
  /**
   * Common Runtime region.
   * @default WEEK_DEFAULTS.heroku.region
   */
  readonly region?: string;
  /**
   * Dyno size of the web process.
   * @default WEEK_DEFAULTS.heroku.dynoSize
   */
  readonly dynoSize?: string;
  /**
   * Number of web dynos.
   * @default WEEK_DEFAULTS.heroku.dynoQuantity
   */
  readonly dynoQuantity?: number;
  /**
   * A Heroku Postgres add-on plan; the add-on sets DATABASE_URL (postgres://...) on the app.
   * @default - no database
   */
  readonly postgresPlan?: string;
  /**
   * Config vars that are not secret.
   * @default - none
   */
  readonly configVars?: Record<string, string>;
  /**
   * Config vars that are secret (sensitive in plans and state views): Terraform expressions
   * from sensitive variables or generated values, never literals.
   * @default - none
   */
  readonly sensitiveConfigVars?: Record<string, string>;
  /**
   * Files written into the staged context on top of the source, by path relative to it (the
   * API's training options and data, see model-training.ts); the build tars them with the rest.
   * @default - none
   */
  readonly contextFiles?: Readonly<Record<string, string>>;
}

/**
 * A Heroku app on the container stack, built remotely from a local folder.
 *
 * The folder is staged as a Terraform asset, so it is present wherever Terraform runs, and
 * `heroku_build` tars it (a change of content starts a new build). Every child resource
 * refers to the app by its id (heroku/heroku 5.x). The order the provider cannot infer is
 * explicit: the build waits for the add-on, so the first release already has DATABASE_URL,
 * and the formation waits for the build, since an app cannot scale before its first release.
 */
export class HerokuContainerApp extends Construct {
  readonly app: App;
  readonly context: BuildContext;
  readonly build: Build;
  readonly formation: Formation;
  /** The Postgres add-on, when a plan was given. */
  readonly postgres?: Addon;
  /** `https://<app>-<random>.herokuapp.com/`, as Heroku reports it. */
  readonly webUrl: string;
  /** The web URL without its trailing slash, for building other URLs on. */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: HerokuContainerAppProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.name) && !new RegExp(herokuAppNamePattern()).test(props.name)) {
      throw new Error(
        `${this.node.path}: name must be 3 to 30 characters of lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit, got ${JSON.stringify(props.name)}`,
      );
    }
    const region = props.region ?? WEEK_DEFAULTS.heroku.region;
    if (!(HEROKU_REGIONS as readonly string[]).includes(region)) {
      throw new Error(`${this.node.path}: region must be eu or us (the Common Runtime regions), got ${JSON.stringify(region)}`);
    }
    const dynoSize = props.dynoSize ?? WEEK_DEFAULTS.heroku.dynoSize;
    if (!(HEROKU_DYNO_SIZES as readonly string[]).includes(dynoSize)) {
      throw new Error(`${this.node.path}: dynoSize must be one of ${HEROKU_DYNO_SIZES.join(", ")}, got ${JSON.stringify(dynoSize)}`);
    }
    const dynoQuantity = props.dynoQuantity ?? WEEK_DEFAULTS.heroku.dynoQuantity;
    if (!Number.isInteger(dynoQuantity) || dynoQuantity < 0 || dynoQuantity > 10) {
      throw new Error(`${this.node.path}: dynoQuantity must be a whole number between 0 and 10, got ${dynoQuantity}`);
    }
    if (props.postgresPlan !== undefined && !HEROKU_POSTGRES_PLAN.test(props.postgresPlan)) {
      throw new Error(`${this.node.path}: postgresPlan must be a Heroku Postgres plan such as heroku-postgresql:essential-0, got ${JSON.stringify(props.postgresPlan)}`);
    }
    for (const file of ["Dockerfile", "heroku.yml"]) {
      if (!fs.existsSync(path.join(props.source, file))) {
        throw new Error(`${this.node.path}: source must hold a Dockerfile and a heroku.yml, got ${JSON.stringify(props.source)} without ${file}`);
      }
    }

    this.app = new App(this, "app", {
      name: props.name,
      region,
      stack: "container",
      configVars: props.configVars,
      sensitiveConfigVars: props.sensitiveConfigVars,
    });
    if (props.postgresPlan !== undefined) {
      this.postgres = new Addon(this, "postgres", { appId: this.app.id, plan: props.postgresPlan });
    }
    this.context = new BuildContext(this, "context", {
      source: props.source,
      include: props.contents?.admit,
      archives: props.contents?.archives,
      files: props.contextFiles,
    });
    this.build = new Build(this, "build", {
      appId: this.app.id,
      // A directory: the provider tars it and checksums the files itself (checksum stays unset).
      source: { path: this.context.path },
      dependsOn: this.postgres === undefined ? undefined : [this.postgres],
    });
    this.formation = new Formation(this, "web", {
      appId: this.app.id,
      type: "web",
      size: dynoSize,
      quantity: dynoQuantity,
      dependsOn: [this.build],
    });
    this.webUrl = this.app.webUrl;
    this.baseUrl = Fn.trimsuffix(this.app.webUrl, "/");
  }
}
