import { type DeliveryReceipt, type IncidentContext, isWebhookDeliveryError } from '@empathy/webhooks-core';
import { UNEDITABLE_MESSAGE_ERRORS } from './errors.js';
import type { SlackPayload } from './format.js';
import type { SlackMessageRef, SlackWebApi } from './web-api.js';

/**
 * One notification of an incident in bot-token mode:
 *
 * - no message yet (the first, or core asks for a fresh post): `chat.postMessage` to `channel`,
 *   and its `{ channel, ts }` returned as the receipt's `incidentRef`;
 * - a repeat, or the resolution, of a posted message: `chat.update` of that message (same channel
 *   and `ts`) with `payload` ("seen N times", or the resolved state), then `payload` as a reply
 *   in its thread, so the thread keeps each notification as it was sent;
 * - the message can no longer be edited (deleted, its channel gone, see
 *   {@link UNEDITABLE_MESSAGE_ERRORS}): `payload` is posted anew, and the new message becomes the
 *   incident's (its `incidentRef` replaces the old one).
 *
 * The update comes before the reply: repeating it is harmless, so an attempt whose reply failed
 * is retried whole without editing twice into a different state.
 */
export async function notifyIncident(
  api: SlackWebApi,
  payload: SlackPayload,
  incident: IncidentContext,
  channel: string,
): Promise<DeliveryReceipt> {
  const original = originalOf(incident.ref);
  let gone: string | undefined;
  if (original !== undefined) {
    gone = await updateOriginal(api, original, payload);
    if (gone === undefined) {
      const reply = await api.postMessage({ ...payload, channel: original.channel, thread_ts: original.ts });
      return {
        status: 200,
        id: reply.ts,
        detail: {
          mode: 'bot_token',
          action: incident.status === 'resolved' ? 'resolved' : 'updated',
          channel: original.channel,
          ts: original.ts,
          thread_ts: original.ts,
        },
      };
    }
  }
  const posted = await api.postMessage({ ...payload, channel: payload.channel ?? channel });
  const detail: Record<string, unknown> = {
    mode: 'bot_token',
    action: gone === undefined ? 'posted' : 'reposted',
    channel: posted.channel,
  };
  // Why the original was left: shown in the receipt, so a repost is never a silent change.
  if (gone !== undefined) detail.replaced = { ts: original!.ts, error: gone };
  const incidentRef =
    posted.channel !== undefined && posted.ts !== undefined
      ? { channel: posted.channel, ts: posted.ts }
      : undefined;
  return { status: 200, id: posted.ts, detail, incidentRef };
}

/** `ref` as a message reference, if it is one (a state store holds whatever was returned earlier). */
function originalOf(ref: IncidentContext['ref']): SlackMessageRef | undefined {
  const channel = ref?.channel;
  const ts = ref?.ts;
  return typeof channel === 'string' && channel !== '' && typeof ts === 'string' && ts !== ''
    ? { channel, ts }
    : undefined;
}

/**
 * Updates the original message. Resolves to `undefined` when it was updated, or to Slack's error
 * code when the message can no longer be edited; any other failure is thrown (retried or not,
 * as Slack's answer says).
 */
async function updateOriginal(
  api: SlackWebApi,
  original: SlackMessageRef,
  payload: SlackPayload,
): Promise<string | undefined> {
  try {
    await api.update(original, payload);
    return undefined;
  } catch (error) {
    if (
      isWebhookDeliveryError(error) &&
      error.code !== undefined &&
      UNEDITABLE_MESSAGE_ERRORS.has(error.code)
    ) {
      return error.code;
    }
    throw error;
  }
}
