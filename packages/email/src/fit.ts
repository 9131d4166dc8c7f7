import { cleanText, oneLine, truncateText } from '@empathy/webhooks-core/kit';
import { EMAIL_LIMITS, type EmailPayload } from './format.js';

/** The longest subject sent (after the prefix a `format` may have kept). */
const MAX_SUBJECT = 250;

/**
 * Applies email's limits to a payload the user's `format` returned: each part is cleaned by
 * core's text policy, the subject is put on one line and cut to 250 characters, the text part
 * cut to {@link EMAIL_LIMITS}.textPart. HTML is not cut (half a tag would break the rest): past
 * {@link EMAIL_LIMITS}.htmlPart it is refused. Throws an `Error` naming the problem when the
 * payload cannot be sent (a part that is not a string, no text and no HTML).
 */
export function fitEmail(payload: EmailPayload): EmailPayload {
  const p = payload as Partial<Record<keyof EmailPayload, unknown>>;
  for (const key of ['subject', 'text', 'html'] as const) {
    if (typeof p[key] !== 'string') throw new Error(`'${key}' must be a string`);
  }
  const html = cleanText(payload.html);
  if (html.length > EMAIL_LIMITS.htmlPart) {
    throw new Error(`'html' is ${html.length} characters long, more than ${EMAIL_LIMITS.htmlPart}`);
  }
  const text = truncateText(cleanText(payload.text), EMAIL_LIMITS.textPart);
  if (text.trim() === '' && html.trim() === '') throw new Error(`an email needs 'text' or 'html'`);
  return { ...payload, subject: truncateText(oneLine(payload.subject), MAX_SUBJECT), text, html };
}
