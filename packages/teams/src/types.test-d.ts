import type { EmpathyEvent } from '@empathy/webhooks-core';
import { expectTypeOf, test } from 'vitest';
import { formatTeamsMessage, type TeamsMessage, TeamsWebhook } from './index.js';

test('options are checked at compile time', () => {
  new TeamsWebhook({ webhookUrl: 'https://x.logic.azure.com/workflows/a', events: ['phi_access'] });
  // @ts-expect-error a misspelled event type
  new TeamsWebhook({ webhookUrl: 'https://x.logic.azure.com/workflows/a', events: ['phi_acess'] });
  // @ts-expect-error webhookUrl is required
  new TeamsWebhook({ events: ['alert'] });
  // `format` is typed with the Workflows message.
  new TeamsWebhook({
    webhookUrl: 'https://x.logic.azure.com/workflows/a',
    format: (_event, defaults) => ({ ...defaults, attachments: defaults.attachments }),
  });
  new TeamsWebhook({
    webhookUrl: 'https://x.logic.azure.com/workflows/a',
    // @ts-expect-error format returns the message, not a bare card
    format: (_e, d) => d.attachments[0].content,
  });
  expectTypeOf(formatTeamsMessage).parameter(0).toEqualTypeOf<EmpathyEvent>();
  expectTypeOf(formatTeamsMessage).returns.toEqualTypeOf<TeamsMessage>();
});
