// Compile-time checks (run by `tsc` in the typecheck task): a wrong event name or data shape is
// a type error, not a silent no-op.
import type { EmpathyOS } from '../src/index.js';

declare const empathy: EmpathyOS;

await empathy.emit('prediction', { prediction: 'p', confidence: 0.9 });
await empathy.emit('alert', { message: 'disk full' }, { severity: 'high', classification: 'SENSITIVE' });

// @ts-expect-error unknown event type
await empathy.emit('predicton', { prediction: 'p', confidence: 0.9 });
// @ts-expect-error `confidence` is required for a prediction
await empathy.emit('prediction', { prediction: 'p' });
// @ts-expect-error severity is one of the catalogue's values
await empathy.emit('alert', { message: 'x' }, { severity: 'urgent' });
// @ts-expect-error `on` takes event types or '*'
empathy.on('alerts', () => {});

empathy.on('bug_detected', (event) => {
  // Narrowed by the type given to `on`: no check of event_type needed.
  const title: string = event.data.title;
  void title;
});
empathy.on('*', (event) => {
  // @ts-expect-error '*' gets any event: data must be narrowed first
  void event.data.title;
});

// App-defined events: augment the map, then they type-check.
declare module '@empathy/webhooks-core' {
  interface EventDataMap {
    release_published: { version: string };
  }
}
await empathy.emit('release_published', { version: '2.0.0' });
// @ts-expect-error wrong data for an app-defined type
await empathy.emit('release_published', { version: 2 });
empathy.on('release_published', (event) => {
  const version: string = event.data.version;
  void version;
});
