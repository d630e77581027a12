/**
 * What Heroku and Google Cloud accept, in one place: the configuration's schema and the
 * constructs that check their own props both read these.
 */

/** Heroku app names of at most `maxLength` characters (30 is Heroku's limit). */
export function herokuAppNamePattern(maxLength = 30): string {
  return `^[a-z][a-z0-9-]{1,${maxLength - 2}}[a-z0-9]$`;
}

/** The Common Runtime regions. */
export const HEROKU_REGIONS = ["us", "eu"] as const;

/** Dyno sizes of the Common Runtime that a formation accepts. */
export const HEROKU_DYNO_SIZES = ["eco", "basic", "standard-1x", "standard-2x", "performance-m", "performance-l"] as const;

/** Current Heroku Postgres plans (the free hobby plans are gone). */
export const HEROKU_POSTGRES_PLAN = /^heroku-postgresql:(essential-[0-2]|standard-\d+|premium-\d+|private-\d+|shield-\d+)$/;

export const GCP_PROJECT_ID_PATTERN = "^[a-z][a-z0-9-]{4,28}[a-z0-9]$";

/** A region such as europe-west1 (a zone such as europe-west1-b is not one). */
export const GCP_REGION = /^[a-z]+-[a-z]+\d{1,2}$/;

/** Cloud SQL tiers of the ENTERPRISE edition. */
export const CLOUD_SQL_ENTERPRISE_TIER = /^db-(f1-micro|g1-small|custom-\d{1,2}-\d{3,6})$/;
