// Type tests, checked by `tsc -p tsconfig.json`: each @ts-expect-error must be an error.
import { SlackWebhook } from '../src/index.js';

new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/services/T/B/X', channel: '#ai-alerts' });
new SlackWebhook({ token: 'xoxb-1', channel: '#ai-alerts', threadKey: (e) => e.event_type });
new SlackWebhook({ token: 'xoxb-1', channel: 'C0123', events: ['prediction', 'alert'], threadKey: false });

// @ts-expect-error a bot token needs a channel
new SlackWebhook({ token: 'xoxb-1' });
// @ts-expect-error webhookUrl and token exclude each other
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', token: 'xoxb-1', channel: '#a' });
// @ts-expect-error threading needs a bot token
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', threadKey: () => 'k' });
// @ts-expect-error unknown event name
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', events: ['predicton'] });
// @ts-expect-error the seed's snake_case option is camelCase here
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', icon_emoji: ':robot_face:' });

// `format` is typed with the Slack payload: `defaults` is a Block Kit message, and so is the result.
new SlackWebhook({
  webhookUrl: 'https://hooks.slack.com/x',
  format: (event, defaults) => ({ ...defaults, text: `[${event.severity}] ${defaults.text}` }),
});
new SlackWebhook({
  token: 'xoxb-1',
  channel: '#a',
  format: (_event, defaults) => ({ ...defaults, blocks: [{ type: 'divider' }, ...defaults.blocks] }),
});
// @ts-expect-error what format returns must be a Slack message (text and blocks)
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', format: () => ({ subject: 'hi' }) });
// @ts-expect-error allowPrivateNetwork is a boolean
new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/x', allowPrivateNetwork: 'yes' });
