import { IncomingMessage, ServerResponse } from "http";
import { isBinaryMediaType, MockIntegration } from "../api-model";
import { ANSWERS } from "../api-responses";
import { Answered, refuse, Refusal, RequestClock } from "../answer";

/**
 * A MOCK integration, as API Gateway runs it: a request payload of a binary media type (every one, under
 * `*` / `*`) must be converted to text for the request template (`contentHandling: CONVERT_TO_TEXT`), or
 * the method fails with 500 (API_CONFIGURATION_ERROR, "Unable to transform request"); otherwise it answers
 * its default response: the status, the static headers and the template's text.
 */
export function answerMock(
  req: Pick<IncomingMessage, "headers">,
  res: ServerResponse,
  clock: Required<RequestClock>,
  integration: MockIntegration,
  binaryMediaTypes: readonly string[],
): Refusal | Answered {
  if (isBinaryMediaType(req.headers["content-type"], binaryMediaTypes) && !integration.convertsToText)
    return refuse(ANSWERS.configurationError, "error", "mock-cannot-transform-binary").stop;
  const body = Buffer.from(integration.body, "utf8");
  res.writeHead(integration.status, [
    ...integration.headers.flat(),
    "content-length",
    String(body.length),
    "x-amzn-RequestId",
    clock.requestId,
    "x-amz-apigw-id",
    clock.extendedRequestId,
  ]);
  res.end(body);
  return { status: integration.status, decision: "public" };
}
