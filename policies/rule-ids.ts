/**
 * The id of every rule of the week's policy pack: code, suppressions and tests refer to these
 * constants, never to the id typed again as a string (as cdk-nag's rules do). An id is stable:
 * suppressions and reviews name it.
 */
export const RULE_IDS = {
  dockerPinnedImage: "WEEK-DOCKER-001",
  dockerLoopbackPorts: "WEEK-DOCKER-002",
  dockerContainerLimits: "WEEK-DOCKER-003",
  dockerNoHostControl: "WEEK-DOCKER-004",
  statefulDestroyProtection: "WEEK-STATE-001",
  secretLiterals: "WEEK-SECRET-001",
  herokuSensitiveConfig: "WEEK-HEROKU-001",
  gcpSqlSsl: "WEEK-GCP-001",
  gcpSqlNoWorldNetwork: "WEEK-GCP-002",
  gcpSqlBackupsAndProtection: "WEEK-GCP-003",
  gcpRunNoPublicInvoke: "WEEK-GCP-004",
  gcpRunDedicatedAccount: "WEEK-GCP-005",
  dockerfilePinnedBase: "WEEK-DOCKERFILE-001",
  dockerfileNonRoot: "WEEK-DOCKERFILE-002",
  dockerfileNoSecrets: "WEEK-DOCKERFILE-003",
  dockerfileNoRecommends: "WEEK-DOCKERFILE-004",
  dockerfileNoCaches: "WEEK-DOCKERFILE-005",
  dockerfileNoRemoteAdd: "WEEK-DOCKERFILE-006",
  knownResources: "WEEK-PACK-001",
} as const;

export type RuleId = (typeof RULE_IDS)[keyof typeof RULE_IDS];
