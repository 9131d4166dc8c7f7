// Checked by `tsc -p tsconfig.json` (not run): wrong options must not compile.
import { GrafanaWebhook } from '../src/index.js';

export function typeTests(token: string): void {
  new GrafanaWebhook({ url: 'https://g', token, dashboardUid: 'ops', panelId: 2, tags: ['prod'] });
  new GrafanaWebhook({ loki: { url: 'https://l', username: '1', password: token, labels: { app: 'x' } } });
  // @ts-expect-error loki needs a url
  new GrafanaWebhook({ loki: { username: '1', password: token } });
  // @ts-expect-error panelId is a number
  new GrafanaWebhook({ url: 'https://g', token, dashboardUid: 'ops', panelId: '2' });
  // @ts-expect-error label values are strings
  new GrafanaWebhook({ loki: { url: 'https://l', labels: { env: 1 } } });
  // `format` is typed with the annotation and the log line.
  new GrafanaWebhook({
    url: 'https://g',
    token,
    format: (_event, defaults) => ({ annotation: { ...defaults.annotation!, tags: ['custom'] } }),
  });
  new GrafanaWebhook({
    url: 'https://g',
    token,
    // @ts-expect-error an annotation's text is a string
    format: (_e, d) => ({ annotation: { ...d.annotation!, text: 1 } }),
  });
  // @ts-expect-error a misspelt event type
  new GrafanaWebhook({ url: 'https://g', token, events: ['bug_detect'] });
}
