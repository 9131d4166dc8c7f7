import { readFileSync } from 'node:fs';
import { Dispatcher } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CustomWebhook } from '../src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  homepage: string;
};

describe('CustomWebhook user agent', () => {
  let server: FakeServer | undefined;
  let dispatcher: Dispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close({ drainMs: 0 });
    await server?.close();
  });

  it("names this package's version and homepage, as package.json says", async () => {
    server = await createFakeServer();
    const webhook = new CustomWebhook({
      url: `${server.url}/hook`,
      events: ['*'],
      allowPrivateNetwork: true,
    });
    dispatcher = new Dispatcher({ webhooks: [webhook] });
    await dispatcher.dispatch(sampleEvent('alert'));
    await dispatcher.flush();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers['user-agent']).toBe(
      `@empathy/webhooks-http/${pkg.version} (+${pkg.homepage})`,
    );
  });
});
