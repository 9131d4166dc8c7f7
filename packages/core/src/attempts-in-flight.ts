/** A place in an {@link InFlight} list: what {@link InFlight.add} returns and {@link InFlight.delete} takes. */
export interface InFlightSlot<K, V> {
  key: K | undefined;
  value: V | undefined;
  prev: InFlightSlot<K, V> | undefined;
  next: InFlightSlot<K, V> | undefined;
}

/**
 * The dispatcher's attempts in flight, each with a value (the function that abandons it): a
 * doubly linked list whose removed slots let go of their key and value at once.
 *
 * Not a Map, for the garbage collector's sake: with a Map here, attempts that had already ended
 * (deleted) still survived young-generation GCs, so every delivery's request, closures and
 * promises were copied into the old generation: 3.3 KB per delivery, scavenges 3–4× longer
 * (`node --trace-gc-nvp`, docs/benchmarks.md, session 3). The list adds one small object per
 * attempt.
 */
export class InFlight<K, V> {
  #head: InFlightSlot<K, V> | undefined;

  /** Adds `key` with `value`; keep the slot to delete it. */
  add(key: K, value: V): InFlightSlot<K, V> {
    const slot: InFlightSlot<K, V> = { key, value, prev: undefined, next: this.#head };
    if (this.#head) this.#head.prev = slot;
    this.#head = slot;
    return slot;
  }

  /** Removes a slot (once; deleting it again does nothing). */
  delete(slot: InFlightSlot<K, V>): void {
    if (slot.key === undefined) return;
    if (slot.prev) slot.prev.next = slot.next;
    else this.#head = slot.next;
    if (slot.next) slot.next.prev = slot.prev;
    slot.key = slot.value = slot.prev = slot.next = undefined;
  }

  /** Removes every slot. */
  clear(): void {
    while (this.#head) this.delete(this.#head);
  }

  /** Every `[key, value]`, the latest added first, as they are now (deleting during the loop is safe). */
  [Symbol.iterator](): Iterator<[K, V]> {
    const all: [K, V][] = [];
    for (let slot = this.#head; slot; slot = slot.next) all.push([slot.key as K, slot.value as V]);
    return all[Symbol.iterator]();
  }
}
