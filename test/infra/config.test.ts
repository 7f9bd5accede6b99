import { readFileSync } from "fs";
import { join } from "path";
import { ConfigError } from "../../authorizer/core/errors";
import { parseInfraConfig } from "../../infra/config";
import { REPO_ROOT } from "../../project/paths";
import { thrownBy } from "../support/errors";

const GROUPS = new Set(["admins", "readers", "model-approvers"]);

describe("parseInfraConfig", () => {
  test("defaults: stage prod, no CIDR restriction, no cross-account roles, a small Fargate service", () => {
    expect(parseInfraConfig(undefined, GROUPS)).toEqual({
      stageName: "prod",
      allowedSourceCidrs: [],
      crossAccountRoles: [],
      // The default profiles whose group is a caller group (no release-managers here).
      studioProfiles: [
        { profileName: "mlflow-admin", group: "admins", id: "Admin" },
        { profileName: "mlflow-reader", group: "readers", id: "Reader" },
        { profileName: "mlflow-model-approver", group: "model-approvers", id: "ModelApprover" },
      ],
      mlflow: { cpu: 1024, memoryMiB: 2048, minTasks: 1, maxTasks: 4 },
      throttle: { rateLimit: 200, burstLimit: 400 },
    });
  });

  test("the shipped cdk.json is valid and trusts nobody: no example principal, no placeholder ExternalId", () => {
    const context = JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")).context["mlflow-gate"];
    expect(parseInfraConfig(context, GROUPS).crossAccountRoles).toEqual([]);
  });

  test("a principal in an example account, or a placeholder ExternalId, is refused with what to put there", () => {
    const role = (over: Record<string, unknown>) => ({
      crossAccountRoles: [
        { roleName: "r", group: "readers", trustedPrincipalArns: ["arn:aws:iam::987654321098:role/ds"], ...over },
      ],
    });
    const examples = thrownBy(
      () =>
        parseInfraConfig(
          role({
            trustedPrincipalArns: [
              "arn:aws:iam::210987654321:role/SageMakerExecutionRole",
              "arn:aws:iam::123456789012:root",
            ],
          }),
          GROUPS,
        ),
      ConfigError,
    ).message;
    expect(examples).toContain(
      "crossAccountRoles[0].trustedPrincipalArns: arn:aws:iam::210987654321:role/SageMakerExecutionRole is in an example account (210987654321): put the ARN of a role or user that exists in the other account",
    );
    expect(examples).toContain("arn:aws:iam::123456789012:root is in an example account");
    for (const placeholder of ["example-external-id-change-me", "CHANGEME", "replace-with-secret"])
      expect(
        thrownBy(() => parseInfraConfig(role({ externalId: placeholder }), GROUPS), ConfigError).message,
      ).toContain(
        `crossAccountRoles[0].externalId "${placeholder}" is a placeholder: agree a secret with the other account`,
      );
    expect(parseInfraConfig(role({ externalId: "3f9c2a7d41b0e6c8" }), GROUPS).crossAccountRoles[0]).toMatchObject({
      externalId: "3f9c2a7d41b0e6c8",
    });
  });

  test("availabilityZoneIds: two different AZ ids, or a line saying what they look like", () => {
    expect(parseInfraConfig({ availabilityZoneIds: ["use1-az1", "use1-az4"] }, GROUPS).availabilityZoneIds).toEqual([
      "use1-az1",
      "use1-az4",
    ]);
    for (const bad of [["us-east-1a", "us-east-1b"], ["use1-az1"], ["use1-az1", "use1-az1"], "use1-az1"])
      expect(thrownBy(() => parseInfraConfig({ availabilityZoneIds: bad }, GROUPS), ConfigError).message).toContain(
        'mlflow-gate.availabilityZoneIds must be two different AZ ids such as ["use1-az1", "use1-az2"]',
      );
  });

  test("studioProfiles: each a caller group and a profile name whose role name fits IAM, each name once", () => {
    // Act
    const config = parseInfraConfig({ studioProfiles: [{ profileName: "team-a-reader", group: "readers" }] }, GROUPS);
    const e = thrownBy(
      () =>
        parseInfraConfig(
          {
            studioProfiles: [
              { profileName: "x".repeat(38), group: "admins" },
              { profileName: "ok", group: "ghosts" },
              { profileName: "ok", group: "admins", role: "r" },
            ],
          },
          GROUPS,
        ),
      ConfigError,
    );
    // Assess
    expect(config.studioProfiles).toEqual([{ profileName: "team-a-reader", group: "readers", id: "TeamAReader" }]);
    for (const fragment of [
      "mlflow-gate.studioProfiles[0].profileName must be 1 to 37 letters",
      'mlflow-gate.studioProfiles[1].group must be a caller group (one of admins, model-approvers, readers), not "ghosts"',
      "mlflow-gate.studioProfiles[2].profileName ok is listed twice",
      "mlflow-gate.studioProfiles[2].role is not a setting",
    ])
      expect(e.message).toContain(fragment);
  });

  test("lists every problem at once", () => {
    const e = thrownBy(
      () =>
        parseInfraConfig(
          {
            account: "12",
            region: "atlantis",
            stageName: "prod stage",
            allowedSourceCidrs: ["10.0.0.0"],
            sagemakerDomainId: "domain",
            uiOrigin: "http://insecure.example",
            crossAccountRoles: [{ roleName: "r", group: "ghosts", trustedPrincipalArns: ["arn:aws:iam::123:role/x"] }],
            mlflow: { minTasks: 3, maxTasks: 2, cpu: 7 },
            typo: true,
          },
          GROUPS,
        ),
      ConfigError,
    );
    for (const fragment of [
      "mlflow-gate.account must be a 12-digit account id",
      "mlflow-gate.region must be a region name",
      "mlflow-gate.stageName must be letters, digits and _",
      "mlflow-gate.allowedSourceCidrs must be a list of CIDRs",
      "mlflow-gate.sagemakerDomainId must be a Studio domain id",
      "mlflow-gate.uiOrigin must be an https origin",
      'crossAccountRoles[0].group must be a caller group (one of admins, model-approvers, readers), not "ghosts"',
      "crossAccountRoles[0].trustedPrincipalArns must be a non-empty list",
      "mlflow-gate.mlflow.cpu must be an integer from 256",
      "maxTasks must be at least minTasks",
      "mlflow-gate.typo is not a setting",
    ]) {
      expect(e.message).toContain(fragment);
    }
  });
});
