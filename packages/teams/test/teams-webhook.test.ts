import { inspect } from 'node:util';
import {
  type DeliveryContext,
  Dispatcher,
  EVENT_TYPES,
  isWebhookConfigError,
  isWebhookDeliveryError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TeamsMessage } from '../src/format.js';
import { TeamsWebhook, type TeamsWebhookOptions } from '../src/teams-webhook.js';
import { parseCard } from '../src/validate-card.js';
import { SIG, teamsApi, WORKFLOW_ID, webhookUrl } from './fake-teams.js';

const ctx = (): DeliveryContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  idempotencyKey: 'evt_test',
  timeoutMs: 5000,
});

async function failure(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  const error = await promise.then(
    () => expect.fail('expected the delivery to fail'),
    (e: unknown) => e,
  );
  expect(isWebhookDeliveryError(error)).toBe(true);
  return error as WebhookDeliveryError;
}

function configError(options: Partial<TeamsWebhookOptions>): Error {
  try {
    new TeamsWebhook(options as TeamsWebhookOptions);
  } catch (error) {
    expect(isWebhookConfigError(error)).toBe(true);
    return error as Error;
  }
  return expect.fail('expected a WebhookConfigError');
}

describe('TeamsWebhook options', () => {
  const url = webhookUrl('https://prod-12.westeurope.logic.azure.com:443');

  it('has defaults for enterprise alerts and compliance, at most 60 posts a minute', () => {
    expect(new TeamsWebhook({ webhookUrl: url })).toMatchObject({
      name: 'teams',
      rateLimit: { maxRequestsPerMinute: 60 },
      concurrency: 4,
      events: [
        'alert',
        'security_vulnerability',
        'compliance_violation',
        'phi_access',
        'deployment_risk',
        'error',
      ],
    });
  });

  it.each([
    [{}, /\[teams\] option 'webhookUrl' is required/],
    [{ webhookUrl: 'prod-12.logic.azure.com/workflows' }, /option 'webhookUrl' is not a valid URL/],
    [{ webhookUrl: url.replace('https:', 'http:') }, /option 'webhookUrl' must be an https URL/],
    [{ webhookUrl: url.replace('https://', `https://user:${SIG}@`) }, /must not carry a user name/],
    [{ webhookUrl: url, events: ['complience_violation' as never] }, /did you mean 'compliance_violation'/],
    [{ webhookUrl: url, retryPolicy: { timeoutSeconds: 0 } }, /option 'retryPolicy.timeoutSeconds'/],
    [{ webhookUrl: url, name: 'hipaa', filter: 'SENSITIVE' as never }, /\[hipaa\] option 'filter'/],
  ])('rejects %o at construction, naming the option', (options, message) => {
    const error = configError(options);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SIG);
  });

  it('keeps the webhook URL out of util.inspect of the plugin', () => {
    expect(inspect(new TeamsWebhook({ webhookUrl: url }), { depth: 12, showHidden: true })).not.toContain(
      SIG,
    );
  });
});

describe('TeamsWebhook on the wire', () => {
  let server: FakeServer;
  beforeEach(async () => {
    server = await createFakeServer(teamsApi);
  });
  afterEach(() => server.close());

  // The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
  const create = (options: Partial<TeamsWebhookOptions> = {}) =>
    new TeamsWebhook({ webhookUrl: webhookUrl(server.url), allowPrivateNetwork: true, ...options });

  it('posts one Adaptive Card to the flow URL and reports the run id of the 202', async () => {
    const receipt = await create().deliver(sampleEvent('compliance_violation'), ctx());
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke`,
      status: 202,
    });
    expect(new URL(request!.url, server.url).searchParams.get('sig')).toBe(SIG);
    expect(request!.headers['content-type']).toMatch(/^application\/json/);
    const body = request!.json<TeamsMessage>();
    expect(body.type).toBe('message');
    expect(body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(parseCard(body.attachments[0].content).problems).toEqual([]);
    expect(receipt).toEqual({ status: 202, id: expect.stringMatching(/^08584\d+CU12$/) });
  });

  it('delivers every event type with long, hostile text as valid cards under the size limit', async () => {
    const dispatcher = new Dispatcher({
      webhooks: [create({ events: ['*'], rateLimit: { maxRequestsPerMinute: 1000 } })],
    });
    for (const type of EVENT_TYPES) await dispatcher.dispatch(hostileEvent(type));
    await dispatcher.flush();
    expect(dispatcher.monitor.getWebhookStats('teams')).toMatchObject({ successCount: 13, failedCount: 0 });
    for (const request of server.requests) {
      expect(Buffer.byteLength(request.body)).toBeLessThan(28_000);
      expect(parseCard(request.json<TeamsMessage>().attachments[0].content).problems).toEqual([]);
    }
    await dispatcher.close();
  });

  it('honours Retry-After on 429', async () => {
    server.respondNext({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { code: 'WorkflowRequestsThrottled', message: 'Rate limit is exceeded.' } },
    });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({
      status: 429,
      retryAfterMs: 7000,
      retryable: true,
      code: 'WorkflowRequestsThrottled',
    });
    expect(error.message).toMatch(
      /^\[teams\] HTTP 429 from http:\/\/127\.0\.0\.1:\d+ \(WorkflowRequestsThrottled\): Rate limit is exceeded\. \(retry after 7s\)$/,
    );
  });

  it('treats a bad signature as permanent', async () => {
    const url = webhookUrl(server.url).replace(SIG, 'wrong-signature-value');
    const error = await failure(create({ webhookUrl: url }).deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({
      status: 401,
      retryable: false,
      code: 'DirectApiInvalidAuthorizationSignature',
    });
    expect(inspect(error, { depth: 12 })).not.toContain('wrong-signature-value');
  });

  it('redacts the flow id, path and sig from what the service sends back', async () => {
    server.setHandler(() => ({
      status: 404,
      body: {
        error: {
          code: 'WorkflowNotFound',
          message: `The workflow '${WORKFLOW_ID}' could not be found at ${webhookUrl(server.url)} (sig=${SIG}).`,
        },
      },
    }));
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(error.message).toMatch(
      /^\[teams\] HTTP 404 from http:\/\/127\.0\.0\.1:\d+ \(WorkflowNotFound\): The workflow '\*\*\*' could not be found at \*\*\* \(sig=\*\*\*\)\.$/,
    );
    const text = inspect(error, { depth: 12 });
    for (const secret of [SIG, WORKFLOW_ID, '/triggers/manual']) expect(text).not.toContain(secret);
  });

  it('reports a gateway page by its status alone', async () => {
    server.respondNext({
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: '<html>Bad Gateway</html>',
    });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(error.message).toMatch(/^\[teams\] HTTP 502 from http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('sends the card format returns, cut to the Teams size, and refuses one that is no card', async () => {
    const teams = create({
      format: (_event, defaults) => {
        const card = defaults.attachments[0].content;
        const note = { type: 'FactSet' as const, facts: [{ title: 'Runbook', value: 'ü'.repeat(40_000) }] };
        return {
          ...defaults,
          attachments: [{ ...defaults.attachments[0], content: { ...card, body: [...card.body, note] } }],
        };
      },
    });
    await teams.deliver(sampleEvent('phi_access'), ctx());
    const [request] = server.requests;
    expect(request!.status).toBe(202);
    expect(Buffer.byteLength(request!.body)).toBeLessThanOrEqual(24_000);
    const card = request!.json<TeamsMessage>().attachments[0].content;
    expect(parseCard(card).problems).toEqual([]);
    expect(JSON.stringify(card)).toContain('"title":"Runbook"');

    const broken = create({ format: () => ({ text: 'hello' }) as never });
    const error = await failure(broken.deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toMatch(
      /^\[teams\] the payload returned by 'format' cannot be sent: .*attachments/,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('prints only the origin: target and util.inspect of the webhook hold no sig or flow id', () => {
    const teams = create();
    expect(teams.target).toBe(server.url);
    const text = `${inspect(teams, { depth: 12, showHidden: true })} ${JSON.stringify(teams)}`;
    for (const secret of [SIG, WORKFLOW_ID]) expect(text).not.toContain(secret);
  });

  it('maps a dropped connection to a retryable error whose cause holds no secret', async () => {
    server.respondNext({ disconnect: true });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(/^\[teams\] request to http:\/\/127\.0\.0\.1:\d+ failed: .*socket hang up/);
    const text = inspect(error, { depth: 12 });
    expect(text).not.toContain(SIG);
    expect(text).not.toContain(WORKFLOW_ID);
  });
});
