import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { type DatadogEvent, DatadogWebhook } from '../src/index.js';
import { API_KEY, APP_KEY, datadogApi, datadogFailures } from './fake-datadog.js';

// Every built-in event type as a Datadog event (the contract passes events: ['*']).
describeWebhookContract('datadog', async () => {
  const server = await createFakeServer(datadogApi);
  return {
    ...fakeServerHarness(server, datadogFailures),
    secrets: [API_KEY, APP_KEY],
    // The title is what the event stream shows.
    mark: (event: DatadogEvent, text: string): DatadogEvent => ({ ...event, title: text }),
    create: ({ endpoint, ...common }) =>
      new DatadogWebhook({ ...common, apiKey: API_KEY, appKey: APP_KEY, site: endpoint ?? server.url }),
  };
});
