// Writes policies/api-definition.json: the REST API's definition with placeholders for the deployment's values,
// for reviewers of a catalog or contract change (`npm run api:generate`).
import { writeFileSync } from "fs";
import { relative } from "path";
import { DEPLOYED_PLACEHOLDERS, formatApiDefinition, renderApiDefinition } from "../authorizer/core/api-definition";
import { loadRouteCatalog } from "../authorizer/load-policies";
import { API_DEFINITION_FILE, CATALOG_FILE } from "../project/paths";

/** The committed rendering of a catalog. */
export function renderCommittedApiDefinition(catalogFile: string = CATALOG_FILE): string {
  const catalog = loadRouteCatalog(catalogFile);
  return formatApiDefinition(
    renderApiDefinition(catalog.routes, { ...DEPLOYED_PLACEHOLDERS, version: catalog.mlflowVersion }).definition,
  );
}

if (require.main === module) {
  const text = renderCommittedApiDefinition();
  writeFileSync(API_DEFINITION_FILE, text);
  process.stdout.write(`wrote ${relative(process.cwd(), API_DEFINITION_FILE)}: ${Buffer.byteLength(text)} bytes\n`);
}
