import {
  type CircuitState,
  type Classification,
  createEvent,
  type DeadLetterStore,
  type DeliveryQueue,
  Dispatcher,
  type DispatcherOptions,
  type EmpathyEvent,
  type EmpathyLevel,
  type EventDataMap,
  type EventType,
  isEventType,
  type Severity,
  WebhookConfigError,
  WebhookMonitor,
  type WebhookPlugin,
} from '@empathy/webhooks-core';

/** One level-4 prediction a responder made. */
export interface Prediction {
  prediction: string;
  /** 0..1 */
  confidence: number;
  recommendation?: string | undefined;
  severity?: Severity | undefined;
  timeframe?: string | undefined;
  impact?: string | undefined;
}

/** A finding a responder reported (a bug, a vulnerability, a review, …), emitted as its own event. */
export interface Finding<T extends EventType = EventType> {
  eventType: T;
  severity?: Severity | undefined;
  classification?: Classification | undefined;
  data: EventDataMap[T];
}

/** What a responder answers to one interaction. */
export interface InteractResult {
  content: string;
  levelUsed: EmpathyLevel;
  proactive?: boolean | undefined;
  predictions?: Prediction[] | undefined;
  findings?: Finding[] | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** One interaction request. */
export interface InteractRequest {
  userId: string;
  userInput: string;
  context?: Record<string, unknown> | undefined;
}

/** The AI part, injected: takes a request, returns the answer with its predictions and findings. */
export type Responder = (request: InteractRequest & { targetLevel: EmpathyLevel }) => Promise<InteractResult>;

/**
 * Options for {@link EmpathyOS}. `onError`, `telemetry` (e.g. `openTelemetry()` from
 * `@empathy/webhooks-otel`) and `incidents` are the dispatcher's, passed through.
 */
export interface EmpathyOSOptions extends Pick<DispatcherOptions, 'onError' | 'telemetry' | 'incidents'> {
  /** The user events are attributed to (`user_id`) unless `emit` says otherwise. */
  userId: string;
  /** The empathy level the responder aims for; predictions are emitted at level >= 4. @default 4 */
  targetLevel?: EmpathyLevel | undefined;
  /** Webhooks to register. */
  webhooks?: WebhookPlugin[] | undefined;
  /** @default a new WebhookMonitor */
  monitor?: WebhookMonitor | undefined;
  /** Where deliveries wait. @default in-memory */
  queue?: DeliveryQueue | undefined;
  /** Answers `interact()`. Required only if you call it. */
  responder?: Responder | undefined;
  /** `metadata.framework_version`. @default '1.8.0' */
  frameworkVersion?: string | undefined;
  /** `metadata.model`. */
  model?: string | undefined;
}

/** Per-event options of {@link EmpathyOS.emit}. */
export interface EmitOptions {
  severity?: Severity | undefined;
  classification?: Classification | undefined;
  empathyLevel?: EmpathyLevel | undefined;
  userId?: string | undefined;
  /** Merged into `data.context`. */
  context?: Record<string, unknown> | undefined;
}

type Listener = (event: EmpathyEvent) => void;

/**
 * The host webhooks register into. `emit()` builds the event envelope, routes it to every
 * webhook whose `events` and `filter` match and queues one delivery job per webhook; it resolves
 * once the jobs are queued and never fails because a destination did.
 *
 * @example
 * const empathy = new EmpathyOS({ userId: 'developer_123', targetLevel: 4, webhooks: [slack] });
 * await empathy.emit('alert', { message: 'Error rate above 5%' }, { severity: 'high' });
 * await empathy.close();
 */
export class EmpathyOS {
  readonly userId: string;
  readonly targetLevel: EmpathyLevel;
  readonly #dispatcher: Dispatcher;
  readonly #responder: Responder | undefined;
  readonly #frameworkVersion: string | undefined;
  readonly #model: string | undefined;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(options: EmpathyOSOptions) {
    if (!options || typeof options.userId !== 'string' || options.userId.length === 0) {
      throw new WebhookConfigError(`EmpathyOS: option 'userId' must be a non-empty string`);
    }
    const level = options.targetLevel ?? 4;
    if (![1, 2, 3, 4, 5].includes(level)) {
      throw new WebhookConfigError(`EmpathyOS: option 'targetLevel' must be 1, 2, 3, 4 or 5 (got ${level})`);
    }
    if (options.responder !== undefined && typeof options.responder !== 'function') {
      throw new WebhookConfigError(`EmpathyOS: option 'responder' must be a function`);
    }
    this.userId = options.userId;
    this.targetLevel = level;
    this.#responder = options.responder;
    this.#frameworkVersion = options.frameworkVersion;
    this.#model = options.model;
    this.#dispatcher = new Dispatcher({
      webhooks: options.webhooks,
      queue: options.queue,
      monitor: options.monitor ?? new WebhookMonitor(),
      onError: options.onError,
      telemetry: options.telemetry,
      incidents: options.incidents,
    });
  }

  /** The registered webhooks. */
  get webhooks(): WebhookPlugin[] {
    return this.#dispatcher.webhooks;
  }

  /** Delivery figures per webhook, and the outcome stream. */
  get monitor(): WebhookMonitor {
    return this.#dispatcher.monitor;
  }

  /** Deliveries that failed for good: list, replay, delete. */
  get deadLetters(): DeadLetterStore {
    return this.#dispatcher.deadLetters;
  }

  /**
   * The state of a webhook's circuit breaker in this process (`closed`, `open`, `half_open`), or
   * `undefined` for an unknown webhook or one whose breaker is off. Dashboards read it.
   */
  circuitState(webhook: string): CircuitState | undefined {
    return this.#dispatcher.circuitState(webhook);
  }

  /** Adds a webhook; returns a function that removes it. */
  registerWebhook(webhook: WebhookPlugin): () => void {
    return this.#dispatcher.register(webhook);
  }

  /**
   * Emits an event: builds the envelope, tells `on()` listeners, and queues a delivery for every
   * webhook that wants it. Resolves with the event once the jobs are queued.
   */
  async emit<T extends EventType>(
    type: T,
    data: EventDataMap[T],
    options: EmitOptions = {},
  ): Promise<EmpathyEvent<T>> {
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError(
        `EmpathyOS.emit: options must be an object (got ${options === null ? 'null' : typeof options})`,
      );
    }
    // Data that is not an object goes to createEvent as it is, which names the problem.
    const payload =
      options.context === undefined || data === null || typeof data !== 'object' || Array.isArray(data)
        ? data
        : ({
            ...data,
            context: { ...(data as { context?: object }).context, ...options.context },
          } as EventDataMap[T]);
    const event = createEvent(type, payload, {
      userId: options.userId ?? this.userId,
      empathyLevel: options.empathyLevel ?? this.targetLevel,
      severity: options.severity,
      classification: options.classification,
      frameworkVersion: this.#frameworkVersion,
      model: this.#model,
    });
    // A generic EmpathyEvent<T> does not narrow to the union until T is known.
    const wire = event as EmpathyEvent;
    this.#notify(wire);
    await this.#dispatcher.dispatch(wire);
    return event;
  }

  /**
   * Runs one interaction through the injected responder, then emits `completion`, one
   * `prediction` per prediction (when the level used is 4 or more) and one event per finding.
   * A responder failure emits `error` and rethrows.
   */
  async interact(request: InteractRequest): Promise<InteractResult> {
    if (!this.#responder) {
      throw new WebhookConfigError(`EmpathyOS: interact() needs a 'responder' option (the AI that answers)`);
    }
    const userId = request.userId ?? this.userId;
    const started = performance.now();
    let result: InteractResult;
    try {
      result = await this.#responder({ ...request, userId, targetLevel: this.targetLevel });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      await this.emit(
        'error',
        { error_type: err.name, message: err.message },
        { userId, severity: 'high', context: request.context },
      );
      throw error;
    }
    const level = result.levelUsed;
    await this.emit(
      'completion',
      {
        content: result.content,
        level_used: level,
        proactive: result.proactive ?? false,
        duration_ms: Math.round(performance.now() - started),
      },
      { userId, empathyLevel: level, context: request.context },
    );
    if (level >= 4) {
      for (const p of result.predictions ?? []) {
        const { severity, ...data } = p;
        await this.emit('prediction', data, {
          userId,
          empathyLevel: level,
          severity,
          context: request.context,
        });
      }
    }
    for (const finding of result.findings ?? []) {
      if (!isEventType(finding.eventType)) {
        throw new WebhookConfigError(
          `EmpathyOS: the responder reported a finding of unknown type '${finding.eventType}'`,
        );
      }
      await this.emit(finding.eventType, finding.data, {
        userId,
        empathyLevel: level,
        severity: finding.severity,
        classification: finding.classification,
      });
    }
    return result;
  }

  /**
   * Calls `handler` for every emitted event of `type` (or all, with `'*'`), in this process; the
   * handler's event is typed for `type`. Returns the unsubscribe function.
   */
  on<T extends EventType | '*'>(
    type: T,
    handler: (event: T extends EventType ? EmpathyEvent<T> : EmpathyEvent) => void,
  ): () => void {
    if (type !== '*' && !isEventType(type)) {
      throw new WebhookConfigError(`EmpathyOS.on: unknown event type '${type}'`);
    }
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    // Stored untyped: #notify calls it only with events of `type`.
    const listener = handler as Listener;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Resolves when every queued delivery has ended (delivered or dead-lettered). */
  flush(): Promise<void> {
    return this.#dispatcher.flush();
  }

  /** Stops accepting events, drains pending deliveries for up to `drainMs` (default 10 s), closes webhooks. */
  close(options: { drainMs?: number } = {}): Promise<void> {
    return this.#dispatcher.close(options);
  }

  #notify(event: EmpathyEvent): void {
    if (this.#listeners.size === 0) return;
    this.#call(this.#listeners.get(event.event_type), event);
    this.#call(this.#listeners.get('*'), event);
  }

  #call(handlers: Set<Listener> | undefined, event: EmpathyEvent): void {
    if (!handlers) return;
    for (const handler of handlers) {
      try {
        handler(event);
      } catch {
        // A listener's bug must not stop the event from going out.
      }
    }
  }
}
