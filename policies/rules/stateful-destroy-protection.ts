import { resources } from "../document";
import type { Finding, PolicyRule } from "../rule";
import { boolOf, show } from "../value";
import { RULE_IDS } from "../rule-ids";

/** WEEK-STATE-001: a volume that holds data is protected from destroy. */
export const statefulDestroyProtection: PolicyRule = {
  id: RULE_IDS.statefulDestroyProtection,
  statement: "A volume that holds data has lifecycle.prevent_destroy set to true.",
  check(doc): Finding[] {
    return resources(doc, "docker_volume").flatMap((r) => {
      const lifecycle = (r.config.lifecycle ?? {}) as { prevent_destroy?: unknown };
      const protectedFromDestroy = boolOf(lifecycle.prevent_destroy);
      if (protectedFromDestroy.known && protectedFromDestroy.value) return [];
      return [
        {
          path: r.path,
          message: protectedFromDestroy.known
            ? `volume ${show(r.config.name)} can be destroyed with its data`
            : `volume ${show(r.config.name)} has prevent_destroy ${show(protectedFromDestroy.raw)}, which the rule cannot prove true`,
          fix: "set lifecycle.prevent_destroy (database.protectVolume), or suppress with the reason it may go",
        },
      ];
    });
  },
};
