import { blocks, resourceOf, type Finding, type PolicyRule } from "../rule";

const PUBLIC_MEMBERS = new Set(["allUsers", "allAuthenticatedUsers"]);

/** WEEK-GCP-004: Cloud Run is invoked publicly only by explicit opt-in. */
export const gcpRunNoPublicInvoke: PolicyRule = {
  id: "WEEK-GCP-004",
  statement: "Cloud Run services are not invokable by allUsers unless gcp.allowPublicAccess opts in.",
  check(node): Finding[] {
    const found = resourceOf(node, "google_cloud_run_v2_service_iam_member", "google_cloud_run_v2_service_iam_binding");
    if (found === undefined) return [];
    const members = found.type.endsWith("_member") ? [found.config.member] : ((found.config.members as unknown[]) ?? []);
    return members
      .filter((m) => typeof m === "string" && PUBLIC_MEMBERS.has(m))
      .map((m) => ({ message: `${String(m)} may invoke the service`, fix: "set gcp.allowPublicAccess to opt in (it records the reason), or grant run.invoker to named identities" }));
  },
};

/** WEEK-GCP-005: Cloud Run runs as a dedicated service account. */
export const gcpRunDedicatedAccount: PolicyRule = {
  id: "WEEK-GCP-005",
  statement: "Cloud Run services run as a dedicated service account, never the default compute account.",
  check(node): Finding[] {
    const found = resourceOf(node, "google_cloud_run_v2_service");
    if (found === undefined) return [];
    const account = (blocks(found.config.template)[0] ?? {}).service_account;
    if (typeof account === "string" && account !== "" && !account.endsWith("-compute@developer.gserviceaccount.com")) return [];
    return [{ message: `the service runs as ${account === undefined ? "the default compute account" : JSON.stringify(account)}`, fix: "create a google_service_account for it and set template.service_account" }];
  },
};
