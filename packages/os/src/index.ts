// The names users reach for next to EmpathyOS, so `@empathy/os` alone is enough to start.
export {
  type EmpathyEvent,
  EVENT_TYPES,
  type EventDataMap,
  type EventType,
  registerEventType,
  WebhookMonitor,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
export {
  type EmitOptions,
  EmpathyOS,
  type EmpathyOSOptions,
  type Finding,
  type InteractRequest,
  type InteractResult,
  type Prediction,
  type Responder,
} from './empathy-os.js';
