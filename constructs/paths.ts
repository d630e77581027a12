import * as path from "path";

/** The project's root folder, where `lambdas-src/` and `database.env` live. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** What runs inside the containers. */
export const WORKLOADS = path.join(PROJECT_ROOT, "lambdas-src");

/** The project root as seen from a stack's folder, `cdktf.out/stacks/<stack>`. */
export const STACK_DIR_TO_ROOT = "../../..";

/**
 * How Terraform, which runs in `cdktf.out/stacks/<stack>`, reaches a file at the project
 * root. A relative path keeps the synthesised JSON the same on every machine.
 */
export function fromStackDir(relativeToRoot: string): string {
  return `\${path.module}/${STACK_DIR_TO_ROOT}/${relativeToRoot}`;
}

