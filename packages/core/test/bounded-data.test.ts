import { describe, expect, it } from 'vitest';
import { boundedData } from '../src/kit/index.js';
import { HOSTILE_TEXT, UNSAFE_CHARACTERS } from '../src/testing/index.js';

const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(strings)
      : value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
        : [];

describe('boundedData', () => {
  it('cleans every string and key, and cuts strings, lists, objects and nesting to the bounds', () => {
    const data = {
      [`key${HOSTILE_TEXT}`]: HOSTILE_TEXT.repeat(10),
      list: Array.from({ length: 25 }, (_, i) => i),
      wide: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])),
      deep: { a: { b: { c: { d: 'too deep' } } } },
      n: 1,
      ok: true,
      none: null,
    };
    const out = boundedData(data, { string: 100, items: 20, keys: 50, depth: 4 }) as Record<string, any>;
    for (const text of strings(out)) expect(text).not.toMatch(UNSAFE_CHARACTERS);
    const [key, value] = Object.entries(out)[0]!;
    expect(key.length).toBeLessThanOrEqual(100);
    // Cut to 100, then cleaned: at most 100, ending in the ellipsis, starting as the text does.
    expect(value.length).toBeLessThanOrEqual(100);
    expect(value.endsWith('…')).toBe(true);
    expect(value.startsWith('<!channel> @everyone')).toBe(true);
    expect(out.list).toEqual([...Array.from({ length: 20 }, (_, i) => i), '… 5 more']);
    expect(Object.keys(out.wide)).toHaveLength(51);
    expect(out.wide['…']).toBe('10 more fields');
    expect(out.deep).toEqual({ a: { b: { c: '[nested too deep]' } } });
    expect(out).toMatchObject({ n: 1, ok: true, none: null });
  });

  it('keeps everything but unsafe characters without bounds, and does not change its input', () => {
    const data = { text: 'a\u202Eb\u0007c', list: ['x\u200By'] };
    expect(boundedData(data)).toEqual({ text: 'abc', list: ['xy'] });
    expect(data.text).toBe('a\u202Eb\u0007c');
  });
});
