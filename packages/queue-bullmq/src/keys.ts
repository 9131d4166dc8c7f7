/**
 * Redis names used by {@link BullMQQueue}. BullMQ keeps its own keys under
 * `<prefix>:webhook.<name>:*` (one BullMQ queue per webhook); ours sit next to them under names
 * that never start with `webhook.`, so the two cannot collide.
 */

/** The BullMQ queue name of a webhook's lane. BullMQ forbids ':' in queue names; webhook names may hold it. */
export function laneName(webhook: string): string {
  return `webhook.${encodeURIComponent(webhook)}`;
}

/** A BullMQ job id for an event (BullMQ forbids ':' and integer-looking custom ids). */
export function jobIdFor(eventId: string): string {
  return `e.${encodeURIComponent(eventId)}`;
}

/** Keys of the dead letters: a hash of letters and sorted sets (by failure time) that order them. */
export function deadLetterKeys(prefix: string) {
  return {
    letters: `${prefix}:dead-letters`,
    order: `${prefix}:dead-letters:order`,
    orderOf: (webhook: string) => `${prefix}:dead-letters:order:${encodeURIComponent(webhook)}`,
  };
}

/** The key of one rate-limit window of a webhook. */
export function rateLimitKey(prefix: string, webhook: string, strategy: string, windowMs: number): string {
  return `${prefix}:rate-limit:${encodeURIComponent(webhook)}:${strategy}:${windowMs}`;
}

/** The key of one incident's state for one webhook (a hash: version and state). */
export function incidentKey(prefix: string, webhook: string, key: string): string {
  return `${prefix}:incident:${encodeURIComponent(webhook)}:${encodeURIComponent(key)}`;
}
