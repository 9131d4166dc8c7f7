import { describe, expect, it } from 'vitest';
import { cleanText } from '../src/kit/index.js';
import { HOSTILE_TEXT, UNSAFE_CHARACTERS } from '../src/testing/index.js';

describe('the testing entry', () => {
  it('exports UNSAFE_CHARACTERS, which finds what the hostile sample holds and the text policy strips', () => {
    // Integrations check their own renderers with it (a renderer may add characters of its own).
    expect(UNSAFE_CHARACTERS.test(HOSTILE_TEXT)).toBe(true);
    expect(UNSAFE_CHARACTERS.test(cleanText(HOSTILE_TEXT))).toBe(false);
    expect(UNSAFE_CHARACTERS.test('a\u200bb')).toBe(true);
    expect(UNSAFE_CHARACTERS.test('a\u200ab tab\there\nnewline')).toBe(false);
  });
});
