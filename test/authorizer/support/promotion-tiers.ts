import { CatalogRoute, RouteCatalog } from "../../../authorizer/core/catalog";
import { parseGroupFile } from "../../../authorizer/core/group-file";
import { GroupFile } from "../../../authorizer/core/groups";

// Group files with promotion blocks for tests of the rules: the tiers of the default files, written here so that
// a change of the defaults changes no test of the mechanism.

/** A group file as if read from `policies/groups/<name>.yaml`. */
export const groupFile = (name: string, text: string): GroupFile =>
  parseGroupFile(name, `policies/groups/${name}.yaml`, text);

export const READERS = groupFile("readers", "description: r\nallow: ['class:read']\n");
/** To Staging and Archived; any alias but champion and prod*. */
export const APPROVERS = groupFile(
  "model-approvers",
  "description: a\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion, 'prod*'] }\n",
);
/** To Production and Archived; champion and prod*; the two-person rule. */
export const RELEASE_MANAGERS = groupFile(
  "release-managers",
  "description: m\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Production, Archived] }\n  aliases: { allow: [champion, 'prod*'] }\n  separateFromCreator: true\n",
);
export const ADMINS = groupFile("admins", "description: a\nallow: ['*']\n");

/** The catalog's route of an action on one surface. */
export function routeOf(catalog: RouteCatalog, action: string, auth: "iam" | "cognito" = "iam"): CatalogRoute {
  const r = catalog.routes.find((x) => x.action === action && x.auth === auth);
  if (!r) throw new Error(`no ${auth} route for ${action}`);
  return r;
}
