import { Agent, request as httpRequest } from "http";
import { MLFLOW_WORKSPACE_HEADER } from "../authorizer/core/contract";
import { Refusal, REFUSALS } from "./answers";
import { isJsonObject } from "./json-body";
import { modelFactsOf, RegistryLookup, versionFactsOf } from "./promotion";

/** A registry lookup that MLflow has not answered in this time is a 502. */
const LOOKUP_TIMEOUT_MS = 30_000;

/**
 * What the promotion rules need, read from MLflow itself (the guard is its only client, so it asks without an
 * identity): a version's stage, aliases and stamped creator; a model's aliases and newest version per stage.
 * undefined when MLflow has no such version or model (404); anything else unreadable or unreachable: a 502.
 * With a `workspace` (a team's request), MLflow is asked in that workspace: the rules read the version the
 * request names, never one of the same name in another team.
 */
export function registryLookup(upstream: URL, agent: Agent, workspace?: string): RegistryLookup {
  const unreachable = () => new Refusal("upstream-unreachable", REFUSALS["upstream-unreachable"]!);
  const read = <T>(path: string, query: Record<string, string>, factsOf: (json: unknown) => T | undefined) =>
    new Promise<T | undefined>((resolve, reject) => {
      const r = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: "GET",
          path: `${path}?${new URLSearchParams(query).toString()}`,
          headers: {
            host: upstream.host,
            accept: "application/json",
            ...(workspace !== undefined ? { [MLFLOW_WORKSPACE_HEADER]: workspace } : {}),
          },
          agent,
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on("data", (c: Buffer) => chunks.push(c));
          up.on("error", () => reject(unreachable()));
          up.on("end", () => {
            if (up.statusCode === 404) return resolve(undefined);
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              json = undefined;
            }
            // MLflow refuses what the request names (a model name it cannot take): the client's error, said so.
            const status = up.statusCode ?? 0;
            if (status >= 400 && status < 500 && isJsonObject(json) && typeof json.message === "string")
              return reject(
                new Refusal("promotion-lookup-refused", {
                  status: 400,
                  errorCode: "INVALID_PARAMETER_VALUE",
                  message: `MLflow cannot read what this request names: ${json.message.slice(0, 500)}`,
                }),
              );
            const facts = up.statusCode === 200 ? factsOf(json) : undefined;
            if (facts === undefined) reject(unreachable());
            else resolve(facts);
          });
        },
      );
      r.setTimeout(LOOKUP_TIMEOUT_MS, () => r.destroy());
      r.on("error", () => reject(unreachable()));
      r.end();
    });
  return {
    version: (name, version) => read("/api/2.0/mlflow/model-versions/get", { name, version }, versionFactsOf),
    model: (name) => read("/api/2.0/mlflow/registered-models/get", { name }, modelFactsOf),
  };
}
