/**
 * What the rules judge: a stack's final Terraform JSON, the document `terraform plan` reads,
 * after every aspect and override. Each resource keeps the construct path cdktf writes in its
 * `//` metadata, so a finding names the construct a reviewer looks for.
 */
import * as path from "path";

export type Json = Record<string, unknown>;

/** A Terraform JSON document (`cdk.tf.json`), with where its relative paths point. */
export interface TerraformDocument {
  readonly kind: "terraform";
  /** The stack's name. */
  readonly stack: string;
  readonly json: Json;
  /** Folder of the document: assets (`assets/...`) and other relative paths are read from it. */
  readonly dir?: string;
  /** Asset paths of a document judged in memory, to the folders they were staged from. */
  readonly assets?: ReadonlyMap<string, string>;
  /**
   * The construct path of each resource the construct tree made, by address (`docker_container.x`).
   * When given, a resource's path comes from here, not from the `//` metadata an override could
   * forge to borrow another construct's suppression; a resource the tree did not make is known
   * by its address.
   */
  readonly constructPaths?: ReadonlyMap<string, string>;
}

/** One resource (or data source) of a document. */
export interface Resource {
  readonly type: string;
  readonly name: string;
  /** The construct path, or `type.name` for a resource added without one (by an override, say). */
  readonly path: string;
  readonly config: Json;
}

function instances(section: unknown, constructPaths?: ReadonlyMap<string, string>): Resource[] {
  const found: Resource[] = [];
  for (const [type, byName] of Object.entries((section ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [name, body] of Object.entries(byName ?? {})) {
      // Terraform JSON allows a resource body to be an array of objects (merged); judge each.
      for (const config of (Array.isArray(body) ? body : [body]) as Json[]) {
        if (config === null || typeof config !== "object") continue;
        const meta = (config["//"] as { metadata?: { path?: unknown } } | undefined)?.metadata?.path;
        const address = `${type}.${name}`;
        const path = constructPaths !== undefined ? (constructPaths.get(address) ?? address) : typeof meta === "string" ? meta : address;
        found.push({ type, name, path, config });
      }
    }
  }
  return found;
}

/** Every resource of one of `types` (every resource when none is given). */
export function resources(doc: TerraformDocument, ...types: string[]): Resource[] {
  return instances(doc.json.resource, doc.constructPaths).filter((r) => types.length === 0 || types.includes(r.type));
}

/** Every data source of one of `types`. */
export function dataSources(doc: TerraformDocument, ...types: string[]): Resource[] {
  return instances(doc.json.data, doc.constructPaths === undefined ? undefined : new Map()).filter((r) => types.includes(r.type));
}

/** True when `doc` declares `type.name` (a resource that a reference may point at). */
export function declares(doc: TerraformDocument, type: string, name: string): boolean {
  const byType = (doc.json.resource as Record<string, Json> | undefined)?.[type];
  return byType !== undefined && Object.prototype.hasOwnProperty.call(byType, name);
}

/** Outputs: name, value and sensitivity. */
export function outputs(doc: TerraformDocument): Array<{ name: string; value: unknown; sensitive: unknown; path: string }> {
  return Object.entries((doc.json.output ?? {}) as Record<string, Json>).map(([name, o]) => ({
    name,
    value: o.value,
    sensitive: o.sensitive,
    path: `output.${name}`,
  }));
}

/** A path of the document (an asset's folder, a Dockerfile) on disk, or undefined when it cannot be found. */
export function fileOf(doc: TerraformDocument, relative: string): string | undefined {
  for (const [asset, source] of doc.assets ?? []) {
    if (relative === asset) return source;
    if (relative.startsWith(`${asset}/`)) return path.join(source, relative.slice(asset.length + 1));
  }
  if (path.isAbsolute(relative)) return relative;
  return doc.dir === undefined ? undefined : path.join(doc.dir, relative);
}
