// Type tests, checked by `tsc -p tsconfig.json`: each @ts-expect-error must be an error.
import { EmailWebhook } from '../src/index.js';

const base = { host: 'smtp.example.com', from: 'bot@example.com', to: 'ops@example.com' } as const;

// `format` is typed with the email payload: `defaults` is { subject, text, html }, and so is the result.
new EmailWebhook({
  ...base,
  format: (event, defaults) => ({ ...defaults, subject: `[${event.severity}] ${defaults.subject}` }),
});
new EmailWebhook({
  ...base,
  allowPrivateNetwork: true,
  format: (_event, defaults) => ({ ...defaults, html: '' }),
});
// @ts-expect-error what format returns must be an email payload (subject, text, html)
new EmailWebhook({ ...base, format: () => ({ text: 'hi' }) });
// @ts-expect-error unknown event name
new EmailWebhook({ ...base, events: ['predicton'] });
// @ts-expect-error the host is required
new EmailWebhook({ from: 'bot@example.com', to: 'ops@example.com' });
