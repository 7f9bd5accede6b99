// The custom resource that waits for an Amplify deployment: StartDeployment only starts a job, so without it a
// deployment whose job fails looks like a successful `cdk deploy`. CDK's Provider framework calls onEvent
// once, then isComplete until it says so or throws (which fails the stack's deployment).
import { AmplifyClient, GetJobCommand } from "@aws-sdk/client-amplify";

/** The properties the stack gives the resource. */
export interface AmplifyJobProperties {
  readonly AppId: string;
  readonly BranchName: string;
  readonly JobId: string;
}

interface ProviderEvent {
  readonly RequestType: "Create" | "Update" | "Delete";
  readonly ResourceProperties: AmplifyJobProperties & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** What a job's status means for the deployment: Amplify's terminal states, or still going. */
export function jobOutcome(status: string | undefined): "succeeded" | "failed" | "running" {
  if (status === "SUCCEED") return "succeeded";
  if (status === "FAILED" || status === "CANCELLED") return "failed";
  return "running";
}

/** Names the job: a new job (a new UI zip) is a new resource; deleting one has nothing to undo. */
export async function onEvent(event: ProviderEvent): Promise<{ PhysicalResourceId: string }> {
  const { AppId, BranchName, JobId } = event.ResourceProperties;
  if (event.RequestType === "Delete") return { PhysicalResourceId: event.PhysicalResourceId ?? JobId };
  return { PhysicalResourceId: `${AppId}/${BranchName}/${JobId}` };
}

/** The part of Amplify's client this needs. */
export interface JobReader {
  send(command: GetJobCommand): Promise<{ job?: { summary?: { status?: string } } }>;
}

let client: JobReader | undefined;

/** Complete once the job succeeded; throws when it failed or was cancelled, so that the deploy fails. */
export async function isComplete(
  event: ProviderEvent,
  reader: JobReader = (client ??= new AmplifyClient({})),
): Promise<{ IsComplete: boolean; Data?: { Status: string } }> {
  if (event.RequestType === "Delete") return { IsComplete: true };
  const { AppId, BranchName, JobId } = event.ResourceProperties;
  const answer = await reader.send(new GetJobCommand({ appId: AppId, branchName: BranchName, jobId: JobId }));
  const status = answer.job?.summary?.status;
  const outcome = jobOutcome(status);
  if (outcome === "failed")
    throw new Error(
      `Amplify deployment job ${JobId} of app ${AppId} (branch ${BranchName}) ended ${status}: see the app's Amplify console for its log`,
    );
  return outcome === "succeeded" ? { IsComplete: true, Data: { Status: status as string } } : { IsComplete: false };
}
