/**
 * A fake of Discord's webhook endpoints for the tests (not exported from the package). It answers
 * like Discord: `POST /api/v10/webhooks/{id}/{token}?wait=true` → 200 with the created message
 * (without `wait`, 204); `PATCH …/messages/{message_id}` → 200 with the edited message;
 * `DELETE …/messages/{message_id}` → 204; all with `X-RateLimit-*` headers. A message in a
 * thread is found only with its `thread_id` query, as on Discord; an unknown one → 404 Unknown
 * Message (10008). A wrong token → 401 (50027); an unknown webhook → 404 (10015); a message over
 * Discord's limits → 400 "Invalid Form Body" (50035) with per-field errors; 429 with
 * `retry_after` in the body and `Retry-After`; 5xx from the edge as an HTML page.
 */
import type { FakeResponse, RecordedRequest, VendorFailures } from '@empathy/webhooks-core/testing';
import type {
  APIMessage,
  RESTPatchAPIWebhookWithTokenMessageResult,
  RESTPostAPIWebhookWithTokenWaitResult,
} from 'discord-api-types/v10';

export const WEBHOOK_ID = '1187654321098765432';
export const TOKEN = 'dSc_T0kEn-aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789_secretsecret';
/** The channel the webhook posts in. */
export const CHANNEL_ID = '1100000000000000001';

/** The webhook URL as Discord shows it, for a fake listening at `base`. */
export function webhookUrl(base: string): string {
  return `${base}/api/webhooks/${WEBHOOK_ID}/${TOKEN}`;
}

const RATE_HEADERS = {
  'x-ratelimit-limit': '5',
  'x-ratelimit-remaining': '4',
  'x-ratelimit-reset-after': '2',
  'x-ratelimit-bucket': 'd2Vi0b0bkZXNjb3Jk',
};

let nextId = 1300000000000000000n;

/**
 * The messages the webhook has posted and not deleted, by id, as Discord holds them (the
 * thread's id is the channel id of a message in a thread). Tests read what a channel shows here.
 */
export const messages = new Map<string, APIMessage>();

const PATH = /^\/api\/v10\/webhooks\/(\d+)\/([\w-]+)(?:\/messages\/([^/]+))?$/;

/** Answers a request as Discord does. */
export function discordApi(request: RecordedRequest): FakeResponse {
  const match = PATH.exec(request.path);
  const messageId = match?.[3];
  const allowed = messageId === undefined ? ['POST'] : ['PATCH', 'DELETE'];
  if (!match || !allowed.includes(request.method)) {
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }
  if (match[1] !== WEBHOOK_ID) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
  if (match[2] !== TOKEN) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
  const query = new URL(request.url, 'http://x').searchParams;
  const channel = query.get('thread_id') ?? CHANNEL_ID;
  if (messageId !== undefined) {
    // Discord looks a webhook's message up in the channel, or in the thread `thread_id` names.
    const found = messages.get(messageId);
    if (found === undefined || found.channel_id !== channel || found.webhook_id !== WEBHOOK_ID) {
      return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    }
    if (request.method === 'DELETE') {
      messages.delete(messageId);
      return { status: 204, headers: RATE_HEADERS };
    }
  }
  let body: Record<string, any>;
  try {
    body = request.json();
  } catch {
    return { status: 400, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
  }
  const errors = validateMessage(body, messageId !== undefined);
  if (errors.length > 0) {
    const tree: Record<string, any> = {};
    for (const { path, message } of errors) {
      let node = tree;
      for (const key of path) {
        node[key] ??= {};
        node = node[key];
      }
      node._errors ??= [];
      node._errors.push({ code: 'BASE_TYPE_MAX_LENGTH', message });
    }
    return { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: tree } };
  }
  if (messageId !== undefined) {
    // Fields left out stay as they were; `null` clears them.
    const edited: RESTPatchAPIWebhookWithTokenMessageResult = {
      ...messages.get(messageId)!,
      edited_timestamp: new Date().toISOString(),
    };
    if (body.content !== undefined) edited.content = body.content ?? '';
    if (body.embeds !== undefined) edited.embeds = body.embeds ?? [];
    messages.set(messageId, edited);
    return { status: 200, headers: RATE_HEADERS, body: edited };
  }
  if (query.get('wait') !== 'true') return { status: 204, headers: RATE_HEADERS };
  nextId++;
  const created: RESTPostAPIWebhookWithTokenWaitResult = {
    id: String(nextId),
    type: 0,
    content: body.content ?? '',
    channel_id: channel,
    author: {
      bot: true,
      id: WEBHOOK_ID,
      username: body.username ?? 'Captain Hook',
      discriminator: '0000',
      global_name: null,
      avatar: null,
    },
    embeds: body.embeds ?? [],
    attachments: [],
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    tts: false,
    pinned: false,
    webhook_id: WEBHOOK_ID,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
  };
  messages.set(created.id, created);
  return { status: 200, headers: RATE_HEADERS, body: created };
}

/** How Discord fails, for the contract suite. */
export const discordFailures: VendorFailures = {
  server_error: {
    status: 502,
    headers: { 'content-type': 'text/html' },
    body: '<html><head><title>502 Bad Gateway</title></head><body><center>cloudflare</center></body></html>',
  },
  rate_limited: (seconds) => ({
    status: 429,
    headers: {
      'retry-after': String(Math.ceil(seconds)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': String(seconds),
      'x-ratelimit-scope': 'user',
      'x-ratelimit-bucket': 'd2Vi0b0bkZXNjb3Jk',
    },
    body: { message: 'You are being rate limited.', retry_after: seconds, global: false },
  }),
  client_error: { status: 404, body: { message: 'Unknown Webhook', code: 10015 } },
  // Discord names what it refused in `message`: a token it does not know, a form field.
  echo: (text) => ({ status: 401, body: { message: text, code: 50027 } }),
};

const length = (value: unknown) => (typeof value === 'string' ? [...value].length : 0);

/**
 * Discord's documented limits, checked the way its API does (code points). An `edit` (PATCH)
 * takes `null` for a field it clears and need not repeat what it leaves as it was.
 */
export function validateMessage(
  body: Record<string, any>,
  edit = false,
): { path: string[]; message: string }[] {
  const errors: { path: string[]; message: string }[] = [];
  const max = (path: string[], value: unknown, limit: number, min = 0) => {
    if (value === undefined) return;
    if (typeof value !== 'string') errors.push({ path, message: 'Must be a string.' });
    else if (length(value) > limit) errors.push({ path, message: `Must be ${limit} or fewer in length.` });
    else if (length(value) < min) errors.push({ path, message: `Must be ${min} or more in length.` });
  };
  max(['content'], edit && body.content === null ? undefined : body.content, 2000);
  if (!edit && body.username !== undefined) {
    max(['username'], body.username, 80, 1);
    if (/discord|clyde/i.test(String(body.username))) {
      errors.push({ path: ['username'], message: 'Username cannot contain "discord"' });
    }
  }
  const embeds: any[] = body.embeds ?? [];
  if (!edit && !body.content && embeds.length === 0)
    errors.push({ path: [], message: 'Cannot send an empty message' });
  if (embeds.length > 10) errors.push({ path: ['embeds'], message: 'Must be 10 or fewer in length.' });
  let total = 0;
  embeds.forEach((embed, i) => {
    const at = (...path: string[]) => ['embeds', String(i), ...path];
    max(at('title'), embed.title, 256);
    max(at('description'), embed.description, 4096);
    max(at('footer', 'text'), embed.footer?.text, 2048);
    max(at('author', 'name'), embed.author?.name, 256);
    if (embed.url !== undefined && !/^https?:\/\/\S+$/.test(embed.url)) {
      errors.push({ path: at('url'), message: 'Not a well formed URL.' });
    }
    if (
      embed.color !== undefined &&
      !(Number.isInteger(embed.color) && embed.color >= 0 && embed.color <= 0xffffff)
    ) {
      errors.push({ path: at('color'), message: 'Int value should be less than or equal to 16777215.' });
    }
    if (embed.timestamp !== undefined && Number.isNaN(Date.parse(embed.timestamp))) {
      errors.push({ path: at('timestamp'), message: 'Could not parse timestamp.' });
    }
    const fields: any[] = embed.fields ?? [];
    if (fields.length > 25) errors.push({ path: at('fields'), message: 'Must be 25 or fewer in length.' });
    fields.forEach((field, j) => {
      max(at('fields', String(j), 'name'), field.name, 256, 1);
      max(at('fields', String(j), 'value'), field.value, 1024, 1);
      total += length(field.name) + length(field.value);
    });
    total +=
      length(embed.title) +
      length(embed.description) +
      length(embed.footer?.text) +
      length(embed.author?.name);
  });
  if (total > 6000) errors.push({ path: ['embeds'], message: 'Embed size exceeds maximum size of 6000' });
  return errors;
}
