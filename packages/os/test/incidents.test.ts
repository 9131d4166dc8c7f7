import { type IncidentContext, MemoryIncidentStore, type WebhookPlugin } from '@empathy/webhooks-core';
import { describe, expect, it } from 'vitest';
import { EmpathyOS } from '../src/index.js';

describe('incidents', () => {
  it('hands repeats and the resolution the first post’s reference, through the store given', async () => {
    const store = new MemoryIncidentStore();
    const seen: (IncidentContext | undefined)[] = [];
    const chat = (): WebhookPlugin => ({
      name: 'chat',
      events: ['alert'],
      async deliver(_event, ctx) {
        seen.push(ctx.incident);
        return { status: 200, incidentRef: ctx.incident?.ref ? undefined : { ts: '1700000000.000100' } };
      },
    });
    const first = new EmpathyOS({ userId: 'ops', webhooks: [chat()], incidents: { store } });
    await first.emit('alert', { title: 'Disk almost full', message: '91%' });
    await first.emit('alert', { title: 'Disk almost full', message: '93%' });
    await first.flush();
    await first.close();
    // A new host on the same store: the resolution still finds the original message.
    const second = new EmpathyOS({
      userId: 'ops',
      webhooks: [chat()],
      incidents: { store, ttlSeconds: 3600 },
    });
    await second.emit('alert', { title: 'Disk almost full', message: '60%', resolved: true });
    await second.flush();
    await second.close();
    expect(seen.map((i) => [i?.status, i?.occurrences, i?.ref?.ts])).toEqual([
      ['firing', 1, undefined],
      ['firing', 2, '1700000000.000100'],
      ['resolved', 2, '1700000000.000100'],
    ]);
  });
});
