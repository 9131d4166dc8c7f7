// Type tests, checked by `tsc -p tsconfig.json` (the typecheck task): the messages we build are
// what Slack's own type packages accept, so a drift on either side fails the build.
import type { Block, KnownBlock } from '@slack/types';
import type { ChatPostMessageArguments } from '@slack/web-api';
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import type { SlackBlock, SlackMessage, SlackPayload } from '../src/index.js';
import { buildPayload, formatMessage } from '../src/index.js';

type EmpathyEvent = Parameters<typeof formatMessage>[0];

export function vendorTypes(event: EmpathyEvent): void {
  // Every block we build is one of Block Kit's known blocks, not just `{ type: string }`
  // (IncomingWebhookSendArguments also takes the loose `Block`, which would accept anything).
  const blocks: KnownBlock[] = formatMessage(event).blocks;
  const one: KnownBlock = {} as SlackBlock;

  // Incoming-webhook mode posts buildPayload() as is.
  const webhook: IncomingWebhookSendArguments = buildPayload(event, {
    channel: '#ai-alerts',
    username: 'Empathy',
  });
  const payload: IncomingWebhookSendArguments = {} as SlackPayload;

  // Bot-token mode: chat.postMessage with the message and a channel.
  const post: ChatPostMessageArguments = { ...formatMessage(event), channel: 'C0123' };
  const message: ChatPostMessageArguments = { ...({} as SlackMessage), channel: 'C0123' };

  // The check has teeth: a block Block Kit does not know is a Block but no KnownBlock.
  const loose: Block = { type: 'sektion' };
  // @ts-expect-error 'sektion' is not a known block type
  const unknown: KnownBlock = { type: 'sektion' };

  void [blocks, one, webhook, payload, post, message, loose, unknown];
}
