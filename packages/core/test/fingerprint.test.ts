import { describe, expect, it } from 'vitest';
import { createEvent } from '../src/index.js';
import { conditionFingerprint } from '../src/kit/index.js';

const perf = (value: number, endpoint = '/api/users') =>
  createEvent(
    'performance_issue',
    { title: 'response time degraded', service: 'api', endpoint, metric: 'p95', value },
    { userId: 'u' },
  );

describe('conditionFingerprint', () => {
  it('is the same for repeats of one condition, whatever the measured values or event ids', () => {
    expect(conditionFingerprint(perf(1840))).toBe(conditionFingerprint(perf(2210)));
    expect(conditionFingerprint(perf(1840))).toMatch(/^empathy:performance_issue:[0-9a-f]{32}$/);
  });

  it('differs when the condition does', () => {
    expect(conditionFingerprint(perf(1840))).not.toBe(conditionFingerprint(perf(1840, '/api/orders')));
    const bug = (file: string) =>
      createEvent('bug_detected', { title: 'leak', description: 'd', file }, { userId: 'u' });
    expect(conditionFingerprint(bug('a.py'))).not.toBe(conditionFingerprint(bug('b.py')));
  });

  it('never groups completions', () => {
    const done = () => createEvent('completion', { content: 'ok', level_used: 4 }, { userId: 'u' });
    expect(conditionFingerprint(done())).not.toBe(conditionFingerprint(done()));
  });
});
