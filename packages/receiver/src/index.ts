export {
  type BodyResult,
  type ReadBodyOptions,
  readNodeBody,
  readWebBody,
} from './read-body.js';
export type { ReceivedEvent, ReceivedIncident } from './received-event.js';
export { createReceiver, type Receiver, type ReceiverOptions } from './receiver.js';
export {
  isReplayStore,
  MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type ReplayState,
  type ReplayStore,
} from './replay-store.js';
