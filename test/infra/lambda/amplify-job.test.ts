import { GetJobCommand } from "@aws-sdk/client-amplify";
import { isComplete, jobOutcome, JobReader, onEvent } from "../../../infra/lambda/amplify-job";

// The handlers of the custom resource that waits for an Amplify deployment, with Amplify's GetJob answered
// here (no AWS from tests): what each job status means for the stack's deployment.

const PROPS = { AppId: "d1abc", BranchName: "main", JobId: "7" };
const event = (RequestType: "Create" | "Update" | "Delete") => ({ RequestType, ResourceProperties: PROPS });

/** A reader that answers each GetJob with the next status, and records what it was asked. */
function statuses(...list: (string | undefined)[]): JobReader & { asked: GetJobCommand["input"][] } {
  const asked: GetJobCommand["input"][] = [];
  return {
    asked,
    send: async (command: GetJobCommand) => {
      asked.push(command.input);
      return { job: { summary: { status: list.shift() } } };
    },
  };
}

test("Amplify's statuses: SUCCEED ends it, FAILED and CANCELLED fail it, anything else is still running", () => {
  expect(
    ["SUCCEED", "FAILED", "CANCELLED", "PENDING", "RUNNING", "PROVISIONING", "CANCELLING", undefined].map(jobOutcome),
  ).toEqual(["succeeded", "failed", "failed", "running", "running", "running", "running", "running"]);
});

test("onEvent names the job; a new job is a new resource", async () => {
  expect(await onEvent(event("Create"))).toEqual({ PhysicalResourceId: "d1abc/main/7" });
  expect(await onEvent({ ...event("Delete"), PhysicalResourceId: "d1abc/main/6" })).toEqual({
    PhysicalResourceId: "d1abc/main/6",
  });
});

test("isComplete reads the job until it has succeeded", async () => {
  const reader = statuses("PENDING", "RUNNING", "SUCCEED");
  expect(await isComplete(event("Create"), reader)).toEqual({ IsComplete: false });
  expect(await isComplete(event("Create"), reader)).toEqual({ IsComplete: false });
  expect(await isComplete(event("Update"), reader)).toEqual({ IsComplete: true, Data: { Status: "SUCCEED" } });
  expect(reader.asked).toEqual(Array(3).fill({ appId: "d1abc", branchName: "main", jobId: "7" }));
});

test("a failed or cancelled job fails the deployment with a line naming the job and where its log is", async () => {
  for (const status of ["FAILED", "CANCELLED"])
    await expect(isComplete(event("Create"), statuses(status))).rejects.toThrow(
      `Amplify deployment job 7 of app d1abc (branch main) ended ${status}: see the app's Amplify console for its log`,
    );
});

test("a delete has nothing to wait for and asks nothing", async () => {
  const reader = statuses();
  expect(await isComplete(event("Delete"), reader)).toEqual({ IsComplete: true });
  expect(reader.asked).toEqual([]);
});
