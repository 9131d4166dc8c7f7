/**
 * A fake of a Teams Workflows webhook for the tests (not exported from the package). It answers
 * like the Power Automate / Logic Apps trigger endpoint:
 * `POST /workflows/{id}/triggers/manual/paths/invoke?api-version=1&sp=…&sv=1.0&sig=…` → 202 with
 * an empty body and `x-ms-workflow-run-id`; a wrong `sig` → 401; an unknown flow → 404; a body
 * that is not JSON → 400; errors as `{ error: { code, message } }`; 429 with `Retry-After`.
 * Like the real trigger, it accepts any JSON: whether the card renders is the flow's business.
 */
import type { FakeResponse, RecordedRequest, VendorFailures } from '@empathy/webhooks-core/testing';

export const WORKFLOW_ID = '3f1e2d4c5b6a47988a1b2c3d4e5f6a7b';
export const SIG = 'Xq9vL2mN8pR4sT6uW0yZ1aB3cD5eF7gH9iJ1kL3mN5o';

/** The flow's URL as Teams shows it, for a fake listening at `base`. */
export function webhookUrl(base: string): string {
  return (
    `${base}/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke` +
    `?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`
  );
}

let runs = 0;

const fail = (status: number, code: string, message: string): FakeResponse => ({
  status,
  headers: { 'x-ms-failure-cause': 'trigger' },
  body: { error: { code, message } },
});

/** Answers a request as a Workflows webhook trigger does. */
export function teamsApi(request: RecordedRequest): FakeResponse {
  const match = /^\/workflows\/([^/]+)\/triggers\/manual\/paths\/invoke$/.exec(request.path);
  if (!match || match[1] !== WORKFLOW_ID) {
    return fail(404, 'WorkflowNotFound', `The workflow '${match?.[1] ?? ''}' could not be found.`);
  }
  if (request.method !== 'POST') {
    return fail(405, 'TriggerRequestMethodNotValid', `The HTTP method for this request is not valid.`);
  }
  const query = new URL(request.url, 'http://x').searchParams;
  if (query.get('sig') !== SIG) {
    return fail(
      401,
      'DirectApiInvalidAuthorizationSignature',
      'The provided authorization signature for the request is not valid.',
    );
  }
  try {
    JSON.parse(request.body);
  } catch {
    return fail(
      400,
      'InvalidRequestContent',
      'The request content is not valid and could not be deserialized.',
    );
  }
  runs++;
  return {
    status: 202,
    headers: {
      'x-ms-workflow-run-id': `0858470737473531396147361847${String(runs).padStart(4, '0')}CU12`,
      'x-ms-correlation-id': '5a1b2c3d-0000-4000-8000-000000000001',
    },
  };
}

/** How the Workflows endpoint fails, for the contract suite. */
export const teamsFailures: VendorFailures = {
  server_error: fail(
    500,
    'InternalServerError',
    "Encountered internal server error. The tracking Id is 'b2c3d4e5-0000-4000-8000-000000000002'.",
  ),
  rate_limited: (seconds) => ({
    ...fail(429, 'WorkflowRequestsThrottled', `Rate limit is exceeded. Try again in ${seconds} seconds.`),
    headers: { 'retry-after': String(seconds) },
  }),
  client_error: fail(404, 'WorkflowNotFound', `The workflow '${WORKFLOW_ID}' could not be found.`),
  // The trigger names the flow it could not find: whatever the URL's path held comes back.
  echo: (text) => fail(404, 'WorkflowNotFound', `The workflow '${text}' could not be found.`),
  success: { status: 202, headers: { 'x-ms-workflow-run-id': '08584707374735313961473618470001CU12' } },
};
