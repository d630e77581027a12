import { resourceOf, type Finding, type PolicyRule } from "../rule";

/** WEEK-STATE-001: a volume that holds data is protected from destroy. */
export const statefulDestroyProtection: PolicyRule = {
  id: "WEEK-STATE-001",
  statement: "A volume that holds data has lifecycle.prevent_destroy.",
  check(node): Finding[] {
    const found = resourceOf(node, "docker_volume");
    if (found === undefined) return [];
    const lifecycle = found.config.lifecycle as { prevent_destroy?: boolean } | undefined;
    if (lifecycle?.prevent_destroy === true) return [];
    return [
      {
        message: `volume ${JSON.stringify(found.config.name)} can be destroyed with its data`,
        fix: "set lifecycle.prevent_destroy (database.protectVolume), or suppress with the reason it may go",
      },
    ];
  },
};
