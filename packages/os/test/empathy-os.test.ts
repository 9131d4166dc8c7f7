import {
  type DeliveryContext,
  type EmpathyEvent,
  isWebhookConfigError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { afterEach, describe, expect, it } from 'vitest';
import { EmpathyOS, type InteractResult } from '../src/index.js';

const collector = (
  name: string,
  events: WebhookPlugin['events'] = ['*'],
  filter?: WebhookPlugin['filter'],
) => {
  const received: EmpathyEvent[] = [];
  const plugin: WebhookPlugin = {
    name,
    events,
    filter,
    async deliver(event: EmpathyEvent, _ctx: DeliveryContext) {
      received.push(event);
      return { status: 200 };
    },
  };
  return { plugin, received };
};

let empathy: EmpathyOS | undefined;
afterEach(async () => {
  await empathy?.close({ drainMs: 0 });
  empathy = undefined;
});

const answer: InteractResult = {
  content: 'Deploying now would conflict with user-service v2.1.',
  levelUsed: 4,
  proactive: true,
  predictions: [
    {
      prediction: 'Auth deployment may conflict with user-service v2.1',
      confidence: 0.87,
      recommendation: 'Deploy auth behind feature flag',
      severity: 'warning',
    },
  ],
  findings: [
    {
      eventType: 'security_vulnerability',
      severity: 'critical',
      data: { title: 'SQL injection', description: 'User input concatenated', file: 'auth.py', line: 45 },
    },
  ],
};

describe('EmpathyOS', () => {
  it('emits completion, one prediction per prediction at level 4, and the findings', async () => {
    const slack = collector('slack', ['prediction', 'alert', 'completion']);
    const jira = collector('jira', ['bug_detected', 'security_vulnerability']);
    const requests: unknown[] = [];
    empathy = new EmpathyOS({
      userId: 'developer_123',
      targetLevel: 4,
      webhooks: [slack.plugin, jira.plugin],
      model: 'claude-sonnet-4.5',
      responder: async (req) => {
        requests.push(req);
        return answer;
      },
    });
    const result = await empathy.interact({
      userId: 'developer_123',
      userInput: 'Deploy the authentication service',
      context: { environment: 'production' },
    });
    await empathy.flush();
    expect(result).toBe(answer);
    expect(requests[0]).toMatchObject({ userInput: 'Deploy the authentication service', targetLevel: 4 });
    expect(slack.received.map((e) => e.event_type)).toEqual(['completion', 'prediction']);
    const prediction = slack.received[1]!;
    expect(prediction).toMatchObject({
      user_id: 'developer_123',
      empathy_level: 4,
      severity: 'warning',
      data: {
        prediction: 'Auth deployment may conflict with user-service v2.1',
        confidence: 0.87,
        recommendation: 'Deploy auth behind feature flag',
        context: { environment: 'production' },
      },
      metadata: { framework_version: '1.8.0', model: 'claude-sonnet-4.5' },
    });
    expect(jira.received).toMatchObject([
      { event_type: 'security_vulnerability', severity: 'critical', data: { file: 'auth.py', line: 45 } },
    ]);
  });

  it('emits no prediction below level 4', async () => {
    const all = collector('all');
    empathy = new EmpathyOS({
      userId: 'u',
      webhooks: [all.plugin],
      responder: async () => ({ ...answer, levelUsed: 3, findings: [] }),
    });
    await empathy.interact({ userId: 'u', userInput: 'hi' });
    await empathy.flush();
    expect(all.received.map((e) => e.event_type)).toEqual(['completion']);
  });

  it('emits error and rethrows when the responder fails', async () => {
    const all = collector('all');
    empathy = new EmpathyOS({
      userId: 'u',
      webhooks: [all.plugin],
      responder: async () => {
        throw new TypeError('model unavailable');
      },
    });
    await expect(empathy.interact({ userId: 'u', userInput: 'hi' })).rejects.toThrow('model unavailable');
    await empathy.flush();
    expect(all.received).toMatchObject([
      {
        event_type: 'error',
        severity: 'high',
        data: { error_type: 'TypeError', message: 'model unavailable' },
      },
    ]);
  });

  it("routes by events and filter, as in the seed's filtering example", async () => {
    const pagerduty = collector('pagerduty', ['alert'], (e) => e.severity === 'high');
    const datadog = collector('datadog', ['*']);
    const compliance = collector(
      'compliance',
      ['compliance_violation', 'phi_access'],
      (e) => e.classification === 'SENSITIVE',
    );
    empathy = new EmpathyOS({
      userId: 'multi_webhook',
      webhooks: [pagerduty.plugin, datadog.plugin, compliance.plugin],
    });
    await empathy.emit('alert', { message: 'db down' }, { severity: 'high' });
    await empathy.emit('alert', { message: 'slow' }, { severity: 'low' });
    await empathy.emit('phi_access', { resource: 'patients/1' }, { classification: 'SENSITIVE' });
    await empathy.emit('phi_access', { resource: 'docs/1' }, { classification: 'INTERNAL' });
    await empathy.flush();
    expect(pagerduty.received.map((e) => e.data)).toMatchObject([{ message: 'db down' }]);
    expect(datadog.received).toHaveLength(4);
    expect(compliance.received.map((e) => e.data)).toMatchObject([{ resource: 'patients/1' }]);
  });

  it('on() sees emitted events locally; registerWebhook adds and removes', async () => {
    empathy = new EmpathyOS({ userId: 'u' });
    const seen: string[] = [];
    const off = empathy.on('alert', (e) => seen.push(e.event_type));
    empathy.on('*', (e) => seen.push(`*${e.event_type}`));
    const late = collector('late');
    const remove = empathy.registerWebhook(late.plugin);
    expect(empathy.webhooks.map((w) => w.name)).toEqual(['late']);
    await empathy.emit('alert', { message: 'x' });
    off();
    remove();
    await empathy.emit('alert', { message: 'y' });
    await empathy.flush();
    expect(seen).toEqual(['alert', '*alert', '*alert']);
    expect(late.received).toHaveLength(1);
  });

  it('validates its options and event names', async () => {
    expect(() => new EmpathyOS({ userId: '' })).toThrow("option 'userId' must be a non-empty string");
    expect(() => new EmpathyOS({ userId: 'u', targetLevel: 7 as never })).toThrow(/targetLevel/);
    empathy = new EmpathyOS({ userId: 'u' });
    await expect(empathy.emit('alrt' as never, {} as never)).rejects.toThrow("did you mean 'alert'?");
    await expect(empathy.interact({ userId: 'u', userInput: 'x' })).rejects.toThrow(/needs a 'responder'/);
  });

  it('emit with data that is not an object rejects with a WebhookConfigError naming the problem', async () => {
    const sink = collector('sink');
    empathy = new EmpathyOS({ userId: 'u', webhooks: [sink.plugin] });
    for (const [data, got] of [
      [null, 'null'],
      ['disk full', 'string'],
      [[], 'an array'],
    ] as const) {
      for (const options of [{}, { context: { host: 'web-1' } }]) {
        const error = await empathy.emit('alert', data as never, options).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(isWebhookConfigError(error), `${String(data)} ${JSON.stringify(options)}`).toBe(true);
        expect((error as Error).message).toBe(
          `[emit] the data of a 'alert' event must be an object, such as { message: '…' } (got ${got})`,
        );
      }
    }
    await expect(empathy.emit('alert', { message: 'ok' }, null as never)).rejects.toThrow(
      'EmpathyOS.emit: options must be an object (got null)',
    );
    await empathy.flush();
    expect(sink.received).toHaveLength(0);
  });

  it("one webhook's broken filter never costs another webhook the event", async () => {
    const reported: string[] = [];
    const healthy = collector('healthy', ['alert']);
    const throwsNull = collector('throws-null', ['alert'], () => {
      throw null;
    });
    const asyncFilter = collector('async', ['alert'], (async () => true) as never);
    empathy = new EmpathyOS({
      userId: 'u',
      webhooks: [throwsNull.plugin, asyncFilter.plugin, healthy.plugin],
      onError: (error, ctx) => reported.push(`${ctx.during}:${ctx.webhook}:${error.name}`),
    });
    await expect(empathy.emit('alert', { message: 'disk full' })).resolves.toMatchObject({
      event_type: 'alert',
    });
    await empathy.flush();
    expect(healthy.received).toHaveLength(1);
    expect(throwsNull.received).toHaveLength(0);
    expect(asyncFilter.received).toHaveLength(0);
    expect(reported).toEqual(['filter:throws-null:WebhookError', 'filter:async:WebhookConfigError']);
    expect(empathy.monitor.getWebhookStats('throws-null').filterErrorCount).toBe(1);
    expect(empathy.monitor.getWebhookStats('async').filterErrorCount).toBe(1);
    expect(empathy.monitor.getWebhookStats('healthy')).toMatchObject({
      successCount: 1,
      filterErrorCount: 0,
    });
  });
});

describe('EmpathyOS.circuitState', () => {
  it('tells whether a webhook’s circuit is closed or open; undefined when unknown or switched off', async () => {
    const down: WebhookPlugin = {
      name: 'down',
      events: ['*'],
      retryPolicy: { maxRetries: 0 },
      circuitBreaker: { failureThreshold: 2, cooldownSeconds: 600 },
      async deliver() {
        throw Object.assign(new Error('upstream unavailable'), { status: 503 });
      },
    };
    const quiet: WebhookPlugin = { ...collector('quiet').plugin, circuitBreaker: false };
    empathy = new EmpathyOS({ userId: 'u1', webhooks: [down, quiet] });
    expect(empathy.circuitState('down')).toBe('closed');
    await empathy.emit('alert', { message: 'one' });
    await empathy.flush();
    expect(empathy.circuitState('down')).toBe('closed');
    await empathy.emit('alert', { message: 'two' });
    await empathy.flush();
    expect(empathy.circuitState('down')).toBe('open');
    expect(empathy.circuitState('quiet')).toBeUndefined();
    expect(empathy.circuitState('nobody')).toBeUndefined();
  });
});
