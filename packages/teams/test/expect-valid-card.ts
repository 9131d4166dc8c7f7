import { expect } from 'vitest';
import type { AdaptiveCard } from '../src/format.js';
import { parseCard } from '../src/validate-card.js';

/** Asserts that Microsoft's parser accepts the card as Adaptive Cards 1.4 and reads it back whole. */
export function expectValidCard(card: AdaptiveCard): void {
  const { problems, parsed } = parseCard(card);
  expect(problems, 'adaptivecards validation').toEqual([]);
  // A misspelled or unknown property is dropped by the parser: the round trip would differ.
  const { msteams: _teamsOnly, ...portable } = card;
  expect(parsed).toEqual(portable);
}
