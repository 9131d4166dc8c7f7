/**
 * Validates Adaptive Cards with Microsoft's own `adaptivecards` package (tests only). Its `lib/`
 * ESM build does not import under Node; the UMD bundle in `dist/` does.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AC = require('adaptivecards/dist/adaptivecards.js');

/** Problems the parser reports for `card` against Adaptive Cards 1.4, and its own reading of it. */
export function parseCard(card: object): { problems: string[]; parsed: Record<string, unknown> } {
  const adaptive = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_4);
  adaptive.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
  for (const event of adaptive.validateProperties().validationEvents) problems.push(event.message);
  return { problems, parsed: adaptive.toJSON() };
}
