/**
 * `@empathy/webhooks-core/fakes`: the fake vendor server and sample events without the vitest
 * contract suite, for examples and scripts that run outside a test runner.
 */
export {
  createFakeServer,
  type FakeHandler,
  type FakeResponse,
  type FakeServer,
  type FakeServerOptions,
  type RecordedRequest,
} from './fake-server.js';
export {
  HOSTILE_TEXT,
  hostileEvent,
  LONG_HOSTILE_TEXT,
  SAMPLE_DATA,
  sampleEvent,
  sampleEvents,
  UNSAFE_CHARACTERS,
} from './samples.js';
