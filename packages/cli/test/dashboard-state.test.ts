import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { afterEach, expect, it } from 'vitest';
import { renderMain } from '../src/dashboard/render.js';
import { hostSource } from '../src/dashboard/state.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
});

it('shows how many events a grouped webhook folded into other notifications', async () => {
  server = await createFakeServer(() => ({ status: 200 }));
  const empathy = new EmpathyOS({
    userId: 'ci',
    webhooks: [
      new CustomWebhook({
        name: 'ci-chat',
        url: `${server.url}/hook`,
        events: ['test_failure'],
        group: { waitSeconds: 0.2 },
        allowPrivateNetwork: true,
      }),
    ],
  });
  for (let i = 0; i < 5; i++) await empathy.emit('test_failure', { test_name: 'pays', message: `run ${i}` });
  await empathy.flush();
  const state = await hostSource(empathy).state();
  await empathy.close();
  expect(state.webhooks[0]).toMatchObject({ name: 'ci-chat', delivered: 1, folded: 4 });
  expect(renderMain(state)).toMatch(/<td data-label="Folded">4<\/td>/);
});
