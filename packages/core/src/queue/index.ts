/**
 * `@empathy/webhooks-core/queue`: what queue authors build on (`SqliteQueue`, `BullMQQueue` and
 * your own `DeliveryQueue`): the job model, the handler a queue runs jobs through, dead-letter
 * storage over a map, the policies a worker applies (rate limiters, the circuit breaker, retry
 * arithmetic), timers for any delay, and safe event serialisation. Users need none of it; plugin
 * authors use `@empathy/webhooks-core/kit`.
 */
export { DEFAULT_CONCURRENCY } from '../dispatcher.js';
export type { IncidentState, IncidentStore } from '../incident.js';
export { CircuitBreaker, DEFAULT_CIRCUIT_BREAKER } from '../policies/circuit-breaker.js';
export {
  createRateLimiter,
  EXACT_SLIDING_WINDOW_LIMIT,
  normalizeRateLimit,
  type RateLimiter,
  type RateLimiterFactory,
  type ResolvedRateLimit,
} from '../policies/rate-limit.js';
export {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  nextRetryDelayMs,
  normalizeRetryPolicy,
  type ResolvedRetryPolicy,
} from '../policies/retry.js';
export { type LongTimeout, MAX_TIMER_DELAY_MS, setLongTimeout } from '../timers.js';
export { deadLetterOf, jobFromDeadLetter, newJob } from './job.js';
export { type Lane, LaneScheduler, type LaneSource, newLane } from './lanes.js';
export { createDeadLetterStore } from './memory.js';
export { serializeEvent } from './serialize.js';
export type {
  DeadLetter,
  DeadLetterStore,
  DeliveryJob,
  DeliveryQueue,
  JobError,
  JobHandler,
  JobOutcome,
} from './types.js';
