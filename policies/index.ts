import type { PolicyRule } from "./rule";
import { dockerContainerLimits } from "./rules/docker-container-limits";
import { dockerLoopbackPorts } from "./rules/docker-loopback-ports";
import { dockerNoHostControl } from "./rules/docker-no-host-control";
import { dockerPinnedImage } from "./rules/docker-pinned-image";
import { dockerfileNoCaches } from "./rules/dockerfile-no-caches";
import { dockerfileNoRecommends } from "./rules/dockerfile-no-recommends";
import { dockerfileNoRemoteAdd } from "./rules/dockerfile-no-remote-add";
import { dockerfileNoSecrets } from "./rules/dockerfile-no-secrets";
import { dockerfileNonRoot } from "./rules/dockerfile-non-root";
import { dockerfilePinnedBase } from "./rules/dockerfile-pinned-base";
import { gcpRunDedicatedAccount, gcpRunNoPublicInvoke } from "./rules/gcp-cloud-run";
import { gcpSqlBackupsAndProtection, gcpSqlNoWorldNetwork, gcpSqlSsl } from "./rules/gcp-cloud-sql";
import { herokuSensitiveConfig } from "./rules/heroku-sensitive-config";
import { knownResources } from "./rules/known-resources";
import { secretLiterals } from "./rules/secret-literals";
import { statefulDestroyProtection } from "./rules/stateful-destroy-protection";

export { PolicyFindingsError, PolicyPack, judgeDocument, findingLine, policySummary, type PolicyReport } from "./policy-pack";
export { suppress, suppressionTable, type SuppressionTable } from "./suppress";
export type { Finding, FindingLevel, PolicyRule } from "./rule";
export { RULE_IDS, type RuleId } from "./rule-ids";
export type { TerraformDocument } from "./document";

/** Every rule of the week's policy pack, applied to every stack's synthesised Terraform. */
export const WEEK_RULES: readonly PolicyRule[] = [
  knownResources,
  dockerPinnedImage,
  dockerLoopbackPorts,
  dockerContainerLimits,
  dockerNoHostControl,
  statefulDestroyProtection,
  secretLiterals,
  herokuSensitiveConfig,
  gcpSqlSsl,
  gcpSqlNoWorldNetwork,
  gcpSqlBackupsAndProtection,
  gcpRunNoPublicInvoke,
  gcpRunDedicatedAccount,
  dockerfilePinnedBase,
  dockerfileNonRoot,
  dockerfileNoSecrets,
  dockerfileNoRecommends,
  dockerfileNoCaches,
  dockerfileNoRemoteAdd,
];
