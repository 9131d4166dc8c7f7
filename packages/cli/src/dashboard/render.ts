import type { DeliveryOutcome } from '@empathy/webhooks-core';
import { DEFER_REASON_TEXT } from '../output.js';
import type { DashboardState, DeadLetterView, WebhookView } from './state.js';

/** Escapes text for HTML content and attribute values. Everything shown goes through it. */
export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const DASH = '–';

/** An outcome of the live feed and when it happened (epoch ms). */
export interface FeedEntry {
  at: number;
  outcome: DeliveryOutcome;
}

function count(n: number | null): string {
  return n === null ? `<span aria-label="unknown">${DASH}</span>` : String(n);
}

function percent(rate: number | null): string {
  return rate === null ? `<span aria-label="unknown">${DASH}</span>` : `${(rate * 100).toFixed(1)}%`;
}

function ms(value: number | null): string {
  if (value === null) return `<span aria-label="unknown">${DASH}</span>`;
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

function circuit(state: WebhookView['circuit']): string {
  if (state === null) return `<span aria-label="unknown">${DASH}</span>`;
  const label = state === 'half_open' ? 'half open' : state;
  return `<span class="badge circuit-${esc(state)}">${esc(label)}</span>`;
}

/** The whole page. `live`: the page subscribes to the outcome stream. */
export function renderPage(state: DashboardState, feed: readonly FeedEntry[]): string {
  const live = state.mode === 'in-process';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Empathy webhooks dashboard</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body data-live="${live}">
<a class="skip" href="#main">Skip to the figures</a>
<header>
<h1>Empathy webhooks</h1>
<p class="meta">Source: <strong>${esc(state.source)}</strong>${live ? ' · live' : ' · refreshed every 5 s'}</p>
<form id="token-form" class="token" autocomplete="off">
<label for="token">Action token</label>
<input id="token" name="token" type="password" spellcheck="false" aria-describedby="token-help">
<button type="submit">Use token</button>
<p id="token-help" class="help">Replay and delete need the token printed when the dashboard started. It stays in this tab only.</p>
</form>
</header>
<p id="status" class="status" role="status" aria-live="polite"></p>
<main id="main" tabindex="-1">
${renderMain(state)}
</main>
${live ? renderFeedSection(feed) : ''}
</body>
</html>
`;
}

/** The part of the page the script refreshes: the webhooks and the dead letters. */
export function renderMain(state: DashboardState): string {
  return `<section aria-labelledby="webhooks-heading">
<h2 id="webhooks-heading">Webhooks (${state.webhooks.length})</h2>
${state.webhooks.length === 0 ? '<p>No webhooks.</p>' : renderWebhooks(state.webhooks)}
${state.note ? `<p class="note">${esc(state.note)}</p>` : ''}
<p class="note">Updated <time datetime="${esc(state.generatedAt)}">${esc(state.generatedAt.replace('T', ' ').slice(0, 19))} UTC</time>.</p>
</section>
<section aria-labelledby="dead-heading">
<h2 id="dead-heading">Dead letters (<span id="dead-count">${state.deadLetterTotal}</span>)</h2>
${state.deadLetters.length === 0 ? '<p id="no-dead">No dead letters.</p>' : renderLetters(state)}
</section>`;
}

function renderWebhooks(rows: WebhookView[]): string {
  const head = [
    'Webhook',
    'Integration',
    'Target',
    'Events',
    'Delivered',
    'Failed',
    'Retried',
    'Folded',
    'Pending',
    'Dead letters',
    'Success rate',
    'p95 latency',
    'Circuit',
    'Last error',
    'Rate limit',
    'Retry policy',
  ];
  const body = rows
    .map((w) => {
      const cells = [
        esc(w.integration),
        esc(w.origin),
        esc(w.events.join(', ')),
        count(w.delivered),
        count(w.failed),
        count(w.retried),
        count(w.folded),
        count(w.pending),
        w.deadLetters > 0 ? `<span class="bad">${w.deadLetters}</span>` : '0',
        percent(w.successRate),
        ms(w.p95Ms),
        circuit(w.circuit),
        w.lastError === null ? DASH : `<span class="error">${esc(w.lastError)}</span>`,
        esc(w.rateLimit),
        esc(w.retryPolicy),
      ];
      return `<tr data-webhook="${esc(w.name)}"><th scope="row" data-label="Webhook">${esc(w.name)}</th>${cells
        .map((cell, i) => `<td data-label="${esc(head[i + 1])}">${cell}</td>`)
        .join('')}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table id="webhooks">
<caption class="visually-hidden">Delivery figures per webhook</caption>
<thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

function renderLetters(state: DashboardState): string {
  const rows = state.deadLetters.map((l) => renderLetter(l)).join('\n');
  const more =
    state.deadLetterTotal > state.deadLetters.length
      ? `<p class="note">Showing the newest ${state.deadLetters.length} of ${state.deadLetterTotal}. Use <code>empathy-webhooks dead-letters list</code> for all.</p>`
      : '';
  return `<div class="table-wrap"><table id="dead-letters">
<caption class="visually-hidden">Dead letters, newest first</caption>
<thead><tr><th scope="col">Dead letter</th><th scope="col">Webhook</th><th scope="col">Event</th><th scope="col">Attempts</th><th scope="col">Failed at (UTC)</th><th scope="col">Error</th><th scope="col">Actions</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
${more}`;
}

function renderLetter(l: DeadLetterView): string {
  const id = esc(l.id);
  const error = `${l.status === null ? '' : `HTTP ${l.status} `}${l.error}`;
  return `<tr data-id="${id}">
<th scope="row" data-label="Dead letter"><code>${id}</code></th>
<td data-label="Webhook">${esc(l.webhook)}</td>
<td data-label="Event"><details><summary>${esc(l.eventType)}${l.severity ? ` <span class="badge sev-${esc(l.severity)}">${esc(l.severity)}</span>` : ''}</summary><pre>${esc(l.event)}</pre></details></td>
<td data-label="Attempts">${l.attempts}</td>
<td data-label="Failed at (UTC)"><time datetime="${esc(l.failedAt)}">${esc(l.failedAt.replace('T', ' ').slice(0, 19))}</time></td>
<td data-label="Error" class="error">${esc(error)}</td>
<td data-label="Actions" class="actions"><div class="buttons"><button type="button" data-action="replay" data-id="${id}" aria-label="Replay ${id}">Replay</button><button type="button" class="danger" data-action="delete" data-id="${id}" aria-label="Delete ${id}">Delete</button></div></td>
</tr>`;
}

function renderFeedSection(feed: readonly FeedEntry[]): string {
  return `<section aria-labelledby="feed-heading" class="feed">
<h2 id="feed-heading">Live deliveries</h2>
<ol id="feed" aria-live="polite" aria-relevant="additions">
${feed.map((f) => renderOutcome(f.outcome, f.at)).join('\n')}
</ol>
<p id="feed-empty" class="note"${feed.length > 0 ? ' hidden' : ''}>Waiting for deliveries…</p>
</section>`;
}

/** One line of the live feed. Sent as HTML over server-sent events: one renderer, here. */
export function renderOutcome(o: DeliveryOutcome, at: number): string {
  const time = new Date(at).toISOString().slice(11, 19);
  const parts = [`attempt ${o.attempt}`];
  if (o.status !== undefined) parts.push(`HTTP ${o.status}`);
  if (o.durationMs !== undefined) parts.push(`${Math.round(o.durationMs)} ms`);
  if (o.kind === 'deferred') parts.push(DEFER_REASON_TEXT[o.reason]);
  const error = o.error === undefined ? '' : ` <span class="error">${esc(o.error)}</span>`;
  return `<li class="outcome kind-${esc(o.kind)}"><time datetime="${new Date(at).toISOString()}">${time} UTC</time> <span class="badge kind-${esc(o.kind)}">${esc(o.kind)}</span> <strong>${esc(o.webhook)}</strong> ${esc(o.eventType)} <code>${esc(o.eventId)}</code> ${esc(parts.join(' · '))}${error}</li>`;
}
