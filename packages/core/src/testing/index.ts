/**
 * Test helpers for integration authors: a fake vendor server, realistic sample events and the
 * contract suite every plugin must pass. Requires vitest.
 */
export {
  type ContractFailure,
  type ContractHarness,
  type ContractPluginOptions,
  describeWebhookContract,
  fakeServerHarness,
  type VendorFailures,
} from './contract.js';
export {
  createFakeServer,
  type FakeHandler,
  type FakeResponse,
  type FakeServer,
  type FakeServerOptions,
  type RecordedRequest,
} from './fake-server.js';
export {
  type IncidentSequenceOptions,
  type IncidentSequenceResult,
  runIncidentSequence,
} from './incident.js';
export { describeQueueContract, type QueueContractHarness } from './queue-contract.js';
export {
  HOSTILE_TEXT,
  hostileEvent,
  LONG_HOSTILE_TEXT,
  SAMPLE_DATA,
  sampleEvent,
  sampleEvents,
  UNSAFE_CHARACTERS,
} from './samples.js';
