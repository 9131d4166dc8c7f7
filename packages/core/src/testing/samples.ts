import { createEvent, type EmpathyEvent, EVENT_TYPES, type EventDataMap, type Severity } from '../events.js';

type BuiltIn = (typeof EVENT_TYPES)[number];

const FIXED_TIME = new Date('2025-11-25T14:30:00.000Z');

/** Realistic `data` for every built-in event type, as the seed describes them. */
export const SAMPLE_DATA: { [K in BuiltIn]: EventDataMap[K] } = {
  prediction: {
    prediction: 'Auth deployment may conflict with user-service v2.1',
    confidence: 0.87,
    recommendation: 'Deploy auth behind feature flag',
    timeframe: 'next deploy',
    context: { service: 'authentication', environment: 'production' },
  },
  alert: {
    title: 'Error rate above 5% on checkout',
    message: 'checkout-api 5xx rate is 7.2% over the last 10 minutes',
    source: 'checkout-api',
    details: { error_rate: 0.072, window: '10m' },
  },
  bug_detected: {
    title: 'Unclosed file handle',
    description: 'open() without a context manager leaks a file descriptor on error paths',
    file: 'storage/export.py',
    line: 112,
    fix: 'with open(path) as fh:\n    data = fh.read()',
    category: 'reliability',
    labels: ['resource-leak'],
  },
  security_vulnerability: {
    title: 'SQL injection',
    description: 'User input concatenated directly into SQL query',
    file: 'auth.py',
    line: 45,
    fix: 'Use parameterized queries: cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))',
    category: 'security',
    labels: ['sql-injection'],
    cwe: 'CWE-89',
    cvss: 9.1,
  },
  performance_issue: {
    title: 'response time degraded',
    service: 'api',
    endpoint: '/api/users',
    metric: 'p95_response_time',
    value: 1840,
    threshold: 500,
    metrics: { avg_response_time: 612, p95_response_time: 1840, error_rate: 0.012 },
  },
  code_review_complete: {
    repository: 'Smart-AI-Memory/empathy',
    pull_request: 123,
    summary: 'Solid change with two suggestions',
    positives: ['Clean code structure', 'Comprehensive test coverage'],
    suggestions: [
      { file: 'app/files.py', line: 45, message: 'Consider using context manager for file handling' },
      { file: 'app/views.py', line: 78, message: 'N+1 query detected, use select_related()' },
    ],
    security: [],
    confidence: 0.92,
    url: 'https://github.com/Smart-AI-Memory/empathy/pull/123',
  },
  test_failure: {
    test_name: 'test_login_rejects_expired_token',
    message: 'AssertionError: expected 401, got 200',
    file: 'tests/test_auth.py',
    suite: 'auth',
    run_url: 'https://ci.example.com/runs/4521',
  },
  deployment_risk: {
    service: 'authentication',
    environment: 'production',
    risk: 'Schema migration locks the users table for ~40s',
    recommendation: 'Run the migration in the maintenance window',
    version: '2.4.0',
  },
  compliance_violation: {
    regulation: 'HIPAA',
    description: 'Patient identifiers written to application logs',
    rule: '164.312(b)',
    resource: 'services/intake/logger.ts',
  },
  pattern_discovered: {
    name: 'Retry storms after deploys',
    description: 'Clients retry in lockstep for ~2 minutes after each deploy of the gateway',
    pattern_id: 'pat_0142',
    confidence: 0.78,
  },
  completion: {
    content: 'Reviewed auth.py: one SQL injection found, fix suggested.',
    level_used: 4,
    proactive: true,
    duration_ms: 1234,
  },
  error: { error_type: 'ResponderTimeout', message: 'the model did not answer within 30s' },
  phi_access: { resource: 'patients/8812/record', accessor: 'dr_chen', purpose: 'treatment' },
};

const SEVERITY: { [K in BuiltIn]?: Severity } = {
  prediction: 'warning',
  alert: 'high',
  bug_detected: 'medium',
  security_vulnerability: 'critical',
  performance_issue: 'warning',
  test_failure: 'medium',
  deployment_risk: 'high',
  compliance_violation: 'high',
  error: 'high',
  phi_access: 'info',
};

/**
 * A realistic event of `type` with a fixed id and time (golden tests stay stable). `overrides`
 * are merged into `data`.
 */
export function sampleEvent<T extends BuiltIn>(
  type: T,
  overrides: Partial<EventDataMap[T]> = {},
  options: { eventId?: string; userId?: string } = {},
): EmpathyEvent<T> {
  return createEvent(type, { ...SAMPLE_DATA[type], ...overrides } as EventDataMap[T], {
    userId: options.userId ?? 'developer_123',
    eventId: options.eventId ?? `evt_sample_${type}`,
    timestamp: FIXED_TIME,
    empathyLevel: 4,
    severity: SEVERITY[type],
    classification: type === 'phi_access' || type === 'compliance_violation' ? 'SENSITIVE' : 'INTERNAL',
    model: 'claude-sonnet-4.5',
  });
}

/** Every built-in type's sample event. */
export function sampleEvents(): EmpathyEvent[] {
  return EVENT_TYPES.map((type) => sampleEvent(type));
}

/**
 * Text that tries every trick: mentions, markup, links, and one of every character class the
 * text policy strips (C0 and C1 controls, DEL, bidi embeddings / overrides / isolates, LRM / RLM /
 * ALM, zero-width characters, the BOM, lone surrogates). {@link UNSAFE_CHARACTERS} matches them.
 */
export const HOSTILE_TEXT =
  '<!channel> @everyone @here <@U123> <script>alert(1)</script> & <https://evil.example|click me> ' +
  '[x](https://evil.example) *bold* _it_ ~strike~ `code` ```fence``` \u0000\u0007\u001B[31m "quotes" \'single\' ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal `${injection}` is the point.
  '{{template}} ${injection} \u202Eright-to-left\u202C \u2066isolate\u2069 \u202Aembed\u202D ' +
  'marks\u200E\u200F\u061C zero\u200Bwidth\u200C\u200D\u2060 bom\uFEFF del\u007F c1\u0085\u009B ' +
  'lone\uD800 surrogate\uDC00 end';

/**
 * Every character the text policy strips, written out independently of core's cleaner so that
 * tests check the policy rather than repeat it: C0 controls but tab and newline, DEL, C1, ALM,
 * Mongolian vowel separator, zero-width and LRM/RLM, bidi embeddings/overrides, word joiner,
 * bidi isolates, BOM, and lone surrogates.
 */
export const UNSAFE_CHARACTERS =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `HOSTILE_TEXT` repeated past every vendor's limit (~20,000 chars). */
export const LONG_HOSTILE_TEXT = `${HOSTILE_TEXT} `.repeat(Math.ceil(20_000 / (HOSTILE_TEXT.length + 1)));

/**
 * The sample event of `type` with every string in `data` replaced by long, hostile text: for
 * golden tests that prove limits are respected and nothing can ping or forge links.
 */
export function hostileEvent<T extends BuiltIn>(type: T): EmpathyEvent<T> {
  const event = sampleEvent(type, {}, { eventId: `evt_hostile_${type}` });
  const poison = (value: unknown): unknown => {
    if (typeof value === 'string') return value.startsWith('http') ? value : LONG_HOSTILE_TEXT;
    if (Array.isArray(value))
      return [...value.map(poison), ...Array.from({ length: 40 }, () => poison(value[0] ?? 'x'))];
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v)]));
    return value;
  };
  return { ...event, data: poison(event.data) as EventDataMap[T] } as EmpathyEvent<T>;
}
