import { cleanText, truncateText } from '@empathy/webhooks-core/kit';
import { SLACK_LIMITS, type SlackBlock, type SlackPayload, truncateMrkdwn } from './format.js';

type TextObject = { type: string; text: string };

/**
 * Applies Slack's limits to a payload the user's `format` returned: text is cleaned by core's
 * text policy and cut (header 150, section 3000, field 2000, context 3000, button 75, `text`
 * 40,000), blocks past 50, fields past 10, context elements past 10 and buttons past 25 are
 * dropped. Block types it does not know pass through. Returns a copy; throws an `Error` naming
 * the problem when the payload cannot be sent at all (no text and no blocks, wrong types).
 */
export function fitPayload(payload: SlackPayload): SlackPayload {
  const p = payload as Partial<Record<keyof SlackPayload, unknown>>;
  for (const key of ['channel', 'username', 'icon_emoji'] as const) {
    if (p[key] !== undefined && typeof p[key] !== 'string') throw new Error(`'${key}' must be a string`);
  }
  if (p.text !== undefined && typeof p.text !== 'string') throw new Error(`'text' must be a string`);
  if (p.blocks !== undefined && !Array.isArray(p.blocks)) throw new Error(`'blocks' must be an array`);
  const text = p.text === undefined ? undefined : truncateMrkdwn(cleanText(p.text), SLACK_LIMITS.text);
  const blocks = ((p.blocks ?? []) as unknown[])
    .slice(0, SLACK_LIMITS.blocks)
    .map((block, i) => fitBlock(block, i));
  if ((text === undefined || text.trim() === '') && blocks.length === 0) {
    throw new Error(`a Slack message needs 'text' or 'blocks'`);
  }
  return { ...payload, ...(text === undefined ? {} : { text }), blocks } as SlackPayload;
}

function fitBlock(block: unknown, index: number): SlackBlock {
  if (block === null || typeof block !== 'object' || typeof (block as { type?: unknown }).type !== 'string') {
    throw new Error(`blocks[${index}] must be an object with a 'type'`);
  }
  const b = block as Record<string, unknown>;
  const where = `blocks[${index}] (${String(b.type)})`;
  switch (b.type) {
    case 'header':
      return { ...b, text: fitText(b.text, SLACK_LIMITS.headerText, where) } as SlackBlock;
    case 'section': {
      const out: Record<string, unknown> = { ...b };
      if (b.text !== undefined) out.text = fitText(b.text, SLACK_LIMITS.sectionText, where);
      if (b.fields !== undefined) {
        out.fields = list(b.fields, where, 'fields')
          .slice(0, SLACK_LIMITS.sectionFields)
          .map((field) => fitText(field, SLACK_LIMITS.fieldText, where));
      }
      return out as SlackBlock;
    }
    case 'context':
      return {
        ...b,
        elements: list(b.elements, where, 'elements')
          .slice(0, SLACK_LIMITS.contextElements)
          .map((element) => (isText(element) ? fitText(element, SLACK_LIMITS.contextText, where) : element)),
      } as SlackBlock;
    case 'actions':
      return {
        ...b,
        elements: list(b.elements, where, 'elements')
          .slice(0, SLACK_LIMITS.actionsElements)
          .map((element) => {
            const e = element as Record<string, unknown>;
            return isText(e?.text)
              ? { ...e, text: fitText(e.text, SLACK_LIMITS.buttonText, where) }
              : element;
          }),
      } as SlackBlock;
    default:
      return b as SlackBlock;
  }
}

function fitText(value: unknown, max: number, where: string): TextObject {
  if (!isText(value)) throw new Error(`${where}: a text object is { type: 'plain_text' | 'mrkdwn', text }`);
  const clean = cleanText(value.text);
  const text = value.type === 'mrkdwn' ? truncateMrkdwn(clean, max) : truncateText(clean, max);
  return { ...value, text };
}

function isText(value: unknown): value is TextObject {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as TextObject).type === 'string' &&
    typeof (value as TextObject).text === 'string'
  );
}

function list(value: unknown, where: string, key: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: '${key}' must be an array`);
  return value;
}
