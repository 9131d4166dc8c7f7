import {
  createFakeServer,
  type FakeResponse,
  type FakeServer,
  type VendorFailures,
} from '@empathy/webhooks-core/testing';

/** The bot token the fake accepts. A secret: tests check it never leaks. */
export const TOKEN = 'xoxb-1111111111-2222222222-fAkEs3cr3tT0k3n';
/** The secret part of the fake's incoming webhook URL. */
export const WEBHOOK_SECRET = 'Zx9s3cr3tW3bh00kP4th';
export const WEBHOOK_PATH = `/services/T0FAKE/B0FAKE/${WEBHOOK_SECRET}`;
/** Channels every fake starts with, by name and ID. */
export const CHANNELS: Readonly<Record<string, string>> = {
  '#ai-alerts': 'C0AIALERTS',
  C0AIALERTS: 'C0AIALERTS',
  '#old-alerts': 'C0OLDALERTS',
  C0OLDALERTS: 'C0OLDALERTS',
};

/** A message the fake accepted. */
export interface PostedMessage {
  mode: 'bot_token' | 'incoming_webhook';
  ts?: string;
  channel?: string;
  thread_ts?: string;
  text?: string;
  username?: string;
  icon_emoji?: string;
  blocks: any[];
}

/** An edit the fake accepted (chat.update). */
export interface UpdatedMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks: any[];
}

/**
 * A fake Slack: the Web API's chat.postMessage and chat.update, and one incoming webhook,
 * answering like Slack.
 */
export interface SlackFake {
  server: FakeServer;
  /** Origin of the fake, for `baseUrl`. */
  url: string;
  webhookUrl: string;
  /** Messages accepted, in order (as posted: later edits are in `updates`). */
  messages: PostedMessage[];
  /** Edits accepted, in order. */
  updates: UpdatedMessage[];
  /** Deletes every message posted so far: replies in their threads and edits of them fail. */
  forgetThreads(): void;
  /** Deletes one message, as a user of the channel may. */
  deleteMessage(ts: string): void;
  /** Deletes a channel: posts to it and edits of its messages answer channel_not_found. */
  deleteChannel(id: string): void;
  /** How Slack answers each contract failure, per mode. */
  failures: { bot: VendorFailures; webhook: VendorFailures };
}

const text = (status: number, body: string, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  headers: { 'content-type': 'text/html', ...headers },
  body,
});

/** Starts the fake on 127.0.0.1. */
export async function startSlackFake(): Promise<SlackFake> {
  const messages: PostedMessage[] = [];
  const updates: UpdatedMessage[] = [];
  const channels = new Map(Object.entries(CHANNELS));
  /** Messages that exist: ts → its channel, and its parent's ts if it is a reply. */
  const live = new Map<string, { channel: string; thread_ts?: string }>();
  let seq = 0;

  const server = await createFakeServer((req) => {
    const isApi = req.method === 'POST' && req.path.startsWith('/api/');
    // The Web API answers HTTP 200 with { ok: false, error } for everything but rate limits.
    if (isApi && req.headers.authorization !== `Bearer ${TOKEN}`) {
      return { body: { ok: false, error: 'invalid_auth' } };
    }
    if (isApi && !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return { body: { ok: false, error: 'invalid_form_data' } };
    }
    if (isApi && req.path === '/api/chat.update') {
      const form = req.form();
      // chat.update takes the channel's ID only, not a #name.
      const channel = form.get('channel') ?? '';
      if (!channels.has(channel) || channels.get(channel) !== channel) {
        return { body: { ok: false, error: 'channel_not_found' } };
      }
      const ts = form.get('ts') ?? '';
      if (live.get(ts)?.channel !== channel) return { body: { ok: false, error: 'message_not_found' } };
      const update: UpdatedMessage = { channel, ts, blocks: [] };
      try {
        update.blocks = JSON.parse(form.get('blocks') ?? '[]');
      } catch {
        return { body: { ok: false, error: 'invalid_blocks_format' } };
      }
      const text = form.get('text');
      if (text !== null) update.text = text;
      if (!update.text && update.blocks.length === 0) return { body: { ok: false, error: 'no_text' } };
      const problems = validateMessage(update);
      if (problems.length > 0) return { body: { ok: false, error: 'invalid_blocks', errors: problems } };
      updates.push(update);
      return {
        body: { ok: true, channel, ts, text: update.text, message: { type: 'message', text: update.text } },
      };
    }
    if (isApi && req.path === '/api/chat.postMessage') {
      const form = req.form();
      const channel = channels.get(form.get('channel') ?? '');
      if (!channel) return { body: { ok: false, error: 'channel_not_found' } };
      const message: PostedMessage = { mode: 'bot_token', channel, blocks: [] };
      try {
        message.blocks = JSON.parse(form.get('blocks') ?? '[]');
      } catch {
        return { body: { ok: false, error: 'invalid_blocks_format' } };
      }
      for (const key of ['text', 'username', 'icon_emoji', 'thread_ts'] as const) {
        const value = form.get(key);
        if (value !== null) message[key] = value;
      }
      if (!message.text && message.blocks.length === 0) return { body: { ok: false, error: 'no_text' } };
      const problems = validateMessage(message);
      if (problems.length > 0) return { body: { ok: false, error: 'invalid_blocks', errors: problems } };
      if (message.thread_ts !== undefined) {
        const parent = live.get(message.thread_ts);
        if (parent === undefined || parent.channel !== channel || parent.thread_ts !== undefined) {
          return { body: { ok: false, error: 'thread_not_found' } };
        }
      }
      message.ts = `1764081000.${String(++seq).padStart(6, '0')}`;
      live.set(message.ts, {
        channel,
        ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
      });
      messages.push(message);
      return {
        body: { ok: true, channel, ts: message.ts, message: { type: 'message', text: message.text } },
      };
    }
    if (req.method === 'POST' && req.path.startsWith('/services/')) {
      // Incoming webhooks answer in plain text: "ok", or an error code with a 4xx/5xx status.
      if (req.path !== WEBHOOK_PATH) return text(404, 'no_service');
      let body: any;
      try {
        body = req.json();
      } catch {
        return text(400, 'invalid_payload');
      }
      const message: PostedMessage = { mode: 'incoming_webhook', ...body, blocks: body.blocks ?? [] };
      if (!message.text && message.blocks.length === 0) return text(400, 'no_text');
      if (validateMessage(message).length > 0) return text(400, 'invalid_blocks');
      messages.push(message);
      return text(200, 'ok');
    }
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  });

  return {
    server,
    url: server.url,
    webhookUrl: `${server.url}${WEBHOOK_PATH}`,
    messages,
    updates,
    forgetThreads: () => live.clear(),
    deleteMessage: (ts) => void live.delete(ts),
    deleteChannel: (id) => {
      for (const [name, value] of channels) if (value === id) channels.delete(name);
    },
    failures: {
      bot: {
        server_error: {
          status: 503,
          headers: { 'content-type': 'text/html' },
          body: '<html>503 Service Unavailable</html>',
        },
        rate_limited: (seconds) => ({
          status: 429,
          headers: { 'retry-after': String(seconds) },
          body: { ok: false, error: 'ratelimited' },
        }),
        client_error: { body: { ok: false, error: 'channel_not_found' } },
        // Slack explains a refused message in response_metadata.messages (an HTTP 200, ok:false).
        echo: (message) => ({
          body: {
            ok: false,
            error: 'invalid_blocks',
            errors: [message],
            response_metadata: { messages: [`[ERROR] ${message}`] },
          },
        }),
      },
      webhook: {
        server_error: text(500, 'rollup_error'),
        rate_limited: (seconds) => text(429, 'rate_limited', { 'retry-after': String(seconds) }),
        client_error: text(404, 'channel_not_found'),
        // Incoming webhooks explain a refusal in a plain-text body.
        echo: (message) => text(400, message),
        success: text(200, 'ok'),
      },
    },
  };
}

/**
 * Checks a message against Slack's documented Block Kit limits
 * (docs.slack.dev/reference/block-kit/blocks). Returns the problems; empty means Slack takes it.
 */
export function validateMessage(message: { text?: string; blocks: any[] }): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const textObject = (t: any, max: number, where: string, types = ['plain_text', 'mrkdwn']) => {
    check(types.includes(t?.type), `${where}: text type ${t?.type}`);
    check(
      typeof t?.text === 'string' && t.text.length >= 1 && t.text.length <= max,
      `${where}: text length ${t?.text?.length} (1..${max})`,
    );
  };
  check(message.text === undefined || message.text.length <= 40_000, 'text longer than 40000');
  check(
    Array.isArray(message.blocks) && message.blocks.length <= 50,
    `${message.blocks?.length} blocks (max 50)`,
  );
  for (const [i, block] of (message.blocks ?? []).entries()) {
    const where = `blocks[${i}] (${block?.type})`;
    switch (block?.type) {
      case 'header':
        textObject(block.text, 150, where, ['plain_text']);
        break;
      case 'section':
        check(block.text !== undefined || block.fields !== undefined, `${where}: needs text or fields`);
        if (block.text !== undefined) textObject(block.text, 3000, where);
        if (block.fields !== undefined) {
          check(
            block.fields.length >= 1 && block.fields.length <= 10,
            `${where}: ${block.fields.length} fields`,
          );
          for (const field of block.fields) textObject(field, 2000, `${where} field`);
        }
        break;
      case 'context':
        check(
          block.elements.length >= 1 && block.elements.length <= 10,
          `${where}: ${block.elements.length} elements`,
        );
        for (const element of block.elements) textObject(element, 3000, `${where} element`);
        break;
      case 'actions':
        check(
          block.elements.length >= 1 && block.elements.length <= 25,
          `${where}: ${block.elements.length} elements`,
        );
        for (const button of block.elements) {
          check(button.type === 'button', `${where}: element type ${button.type}`);
          textObject(button.text, 75, `${where} button`, ['plain_text']);
          check(
            typeof button.url === 'string' && button.url.length <= 3000 && URL.canParse(button.url),
            `${where}: url`,
          );
        }
        break;
      case 'divider':
        break;
      default:
        problems.push(`${where}: unknown block type`);
    }
  }
  return problems;
}
