import {
  createEvent,
  Dispatcher,
  type IncidentStore,
  incidentOf,
  MemoryIncidentStore,
  MemoryQueue,
  verifyWebhookSignature,
} from '@empathy/webhooks-core';
import {
  createFakeServer,
  type FakeServer,
  type RecordedRequest,
  runIncidentSequence,
  sampleEvent,
} from '@empathy/webhooks-core/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomWebhook, type CustomWebhookEvent, type CustomWebhookOptions } from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The body, after checking both signatures a receiver checks (X-Signature, Standard Webhooks). */
function verified(request: RecordedRequest): CustomWebhookEvent {
  const h = request.headers as Record<string, string>;
  expect(verifyWebhookSignature(request.body, h['x-signature']!, SECRET)).toBe(true);
  return new Webhook(SECRET).verify(request.body, {
    'webhook-id': h['webhook-id']!,
    'webhook-timestamp': h['webhook-timestamp']!,
    'webhook-signature': h['webhook-signature']!,
  }) as CustomWebhookEvent;
}

/** A MemoryQueue whose incident state outlives it, as a durable queue's does across a restart. */
class QueueWithStore extends MemoryQueue {
  constructor(readonly incidentStore: IncidentStore) {
    super();
  }
}

// Incident lifecycle (issue 15): fire → repeat ×3 → resolve, to a receiver that verifies signatures.
describe('CustomWebhook incident lifecycle', () => {
  let server: FakeServer;
  const make = (options: Partial<CustomWebhookOptions> = {}) =>
    new CustomWebhook({
      url: `${server.url}/hooks/empathy`,
      signingSecret: SECRET,
      allowPrivateNetwork: true,
      retryPolicy: { maxRetries: 1, initialDelaySeconds: 0.01, jitter: false },
      ...options,
    });
  /** The incident block of each verified body, with the event it came with. */
  const received = () => server.requests.map(verified);
  const blocks = () => received().map((body) => body.incident);

  beforeEach(async () => {
    server = await createFakeServer(() => ({ status: 200, body: { status: 'ok' } }));
  });
  afterEach(async () => {
    await server.close();
  });

  const expected = (key: string, firstSeen: string[]) => [
    { key, status: 'firing', occurrences: 1, first_seen_at: firstSeen[0] },
    { key, status: 'firing', occurrences: 2, first_seen_at: firstSeen[1] },
    { key, status: 'firing', occurrences: 3, first_seen_at: firstSeen[1] },
    { key, status: 'firing', occurrences: 4, first_seen_at: firstSeen[1] },
    { key, status: 'resolved', occurrences: 4, first_seen_at: firstSeen[1] },
  ];

  it('adds the incident block to each signed body: one key, counted, resolved last', async () => {
    const { events } = await runIncidentSequence({ webhook: () => make() });
    const key = incidentOf(events[0]!)!.key;
    const seen = blocks().map((b) => b!.first_seen_at);
    expect(blocks()).toEqual(expected(key, seen));
    // The first notification dates the incident no later than the rest do.
    expect(Date.parse(seen[0]!)).toBeLessThanOrEqual(Date.parse(seen[1]!));
    // The rest of each body is the event envelope as before, its own event each time.
    const bodies = received();
    expect(bodies.map((b) => b.event_id)).toEqual(events.map((e) => e.event_id));
    const { incident: _, ...envelope } = bodies[4]!;
    expect(envelope).toEqual(events[4]);
    expect(Object.keys(bodies[0]!).at(-1)).toBe('incident');
  });

  it('keeps counting across a restart before the resolve: the incident state is the store’s', async () => {
    // A durable queue keeps its incident store in its own file; this package cannot depend on
    // @empathy/webhooks-store-sqlite (which tests with CustomWebhook), so a shared store stands in.
    const store = new MemoryIncidentStore();
    const { events, stats } = await runIncidentSequence({
      webhook: () => make(),
      queue: () => new QueueWithStore(store),
      restartBeforeResolve: true,
    });
    const seen = blocks().map((b) => b!.first_seen_at);
    expect(blocks()).toEqual(expected(incidentOf(events[0]!)!.key, seen));
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
  });

  it('sends an explicit incident_key as the key', async () => {
    await runIncidentSequence({
      webhook: () => make(),
      data: { title: 'Checkout down', message: 'no 2xx', incident_key: 'INC-checkout' },
      repeats: 1,
    });
    expect(blocks().map((b) => [b!.key, b!.status, b!.occurrences])).toEqual([
      ['INC-checkout', 'firing', 1],
      ['INC-checkout', 'firing', 2],
      ['INC-checkout', 'resolved', 2],
    ]);
  });

  it('sends events outside any incident as before, without the block', async () => {
    const dispatcher = new Dispatcher({ webhooks: [make()] });
    const prediction = sampleEvent('prediction');
    await dispatcher.dispatch(prediction);
    await dispatcher.flush();
    await dispatcher.close();
    expect(received()).toEqual([prediction]);
  });

  it('with group.waitSeconds, folds 10 repeats into one body that says 10', async () => {
    const webhook = make({ group: { waitSeconds: 2 } });
    const dispatcher = new Dispatcher({ webhooks: [webhook] });
    const failure = (message: string) =>
      createEvent('test_failure', { test_name: 'checkout pays', message }, { userId: 'ci' });
    const events = Array.from({ length: 10 }, (_, i) => failure(`run ${i + 1} timed out`));
    for (const event of events) await dispatcher.dispatch(event);
    await dispatcher.flush();
    // One request for all ten: the latest event (the condition as it is now), counting them all.
    expect(received().map((b) => [b.event_id, b.incident?.status, b.incident?.occurrences])).toEqual([
      [events[9]!.event_id, 'firing', 10],
    ]);
    expect(dispatcher.monitor.getWebhookStats(webhook.name)).toMatchObject({
      successCount: 1,
      foldedCount: 9,
    });
    await dispatcher.close();
  });

  it('hands the block to format in defaults; what format returns is what is signed', async () => {
    await runIncidentSequence({
      webhook: () =>
        make({
          format: (event, defaults) => ({
            kind: event.event_type,
            group: (defaults as CustomWebhookEvent).incident?.key,
            state: (defaults as CustomWebhookEvent).incident?.status,
          }),
        }),
      repeats: 0,
    });
    const bodies = server.requests.map(verified) as unknown as Record<string, unknown>[];
    expect(bodies.map((b) => b.state)).toEqual(['firing', 'resolved']);
    expect(bodies[0]!.group).toBe(bodies[1]!.group);
  });
});
