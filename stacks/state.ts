/**
 * Where each stack keeps its Terraform state: `state/terraform.<stack>.tfstate` at the project
 * root (git-ignored), outside the build output. `cdktf.out` can be deleted at any time (and
 * cdktf itself deletes the folder of a stack it no longer synthesises); the state is the only
 * record of live Heroku and Google resources, so it never lives there.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalBackend, type TerraformStack } from "cdktf";
import { STACK_DIR_TO_ROOT } from "../constructs/paths";

/** The folder, relative to the project root. */
export const STATE_FOLDER = "state";

export const stateFileName = (stackId: string) => `terraform.${stackId}.tfstate`;

/** The backend's `path`, as Terraform resolves it from the stack's folder `cdktf.out/stacks/<stack>`. */
export const stateBackendPath = (stackId: string) => `${STACK_DIR_TO_ROOT}/${STATE_FOLDER}/${stateFileName(stackId)}`;

/** Gives `stack` a local backend whose state (and workspaces) live in `state/`. */
export function addStateBackend(stack: TerraformStack): LocalBackend {
  const id = stack.node.id;
  return new LocalBackend(stack, {
    path: stateBackendPath(id),
    workspaceDir: `${STACK_DIR_TO_ROOT}/${STATE_FOLDER}/${id}.tfstate.d`,
  });
}

/** Thrown when a state file would have to overwrite another; nothing has been moved. */
export class StateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateConflictError";
  }
}

/**
 * Moves the state files that earlier versions left in `<outdir>/stacks/<stack>/` (the state and
 * Terraform's `.backup` of it) to where each stack's backend now points. Never overwrites: when
 * a file exists at both places, nothing moves and a StateConflictError says what to do.
 *
 * @returns one line per file moved
 */
export function moveStateOutOfBuild(outdir: string, stackIds: readonly string[]): string[] {
  const moves: Array<{ from: string; to: string }> = [];
  for (const id of stackIds) {
    const stackDir = path.join(outdir, "stacks", id);
    for (const suffix of ["", ".backup"]) {
      const from = path.join(stackDir, stateFileName(id) + suffix);
      if (!fs.existsSync(from)) continue;
      const to = path.resolve(stackDir, stateBackendPath(id) + suffix);
      if (fs.existsSync(to)) {
        const show = (file: string) => path.relative(process.cwd(), file) || file;
        throw new StateConflictError(
          `${show(from)} and ${show(to)} both exist: keep the one with the higher "serial" at ${show(to)}, move the other away, then synth again`,
        );
      }
      moves.push({ from, to });
    }
  }
  const lines: string[] = [];
  for (const { from, to } of moves) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.renameSync(from, to);
    lines.push(`moved ${path.relative(process.cwd(), from)} to ${path.relative(process.cwd(), to)} (if Terraform then says the backend changed, deploy once with --migrate-state)`);
  }
  return lines;
}
