/**
 * The dashboard's stylesheet and script, served as files so that the Content-Security-Policy can
 * forbid inline code. No build step, no framework: the server renders the HTML, the script only
 * swaps server-rendered fragments in, sends actions with the token header, and follows the feed.
 */

/** The header that carries the action token. A custom header: another origin cannot send it without a CORS preflight, which the server never grants. */
export const TOKEN_HEADER = 'x-dashboard-token';

/** `/assets/dashboard.css` */
export const CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#555;--line:#d0d0d0;--head:#f3f4f6;--accent:#0b57d0;--bad:#b3261e;--ok:#146c2e;--warn:#8a5300;--focus:#0b57d0}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#ececec;--muted:#b0b0b0;--line:#3a3a3a;--head:#1e1e1e;--accent:#8ab4f8;--bad:#f2b8b5;--ok:#8fd9a0;--warn:#f5c26b;--focus:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.meta,.note,.help{color:var(--muted);margin:.25rem 0}.note{font-size:.9rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:1}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.token{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.75rem 0}
.token .help{flex-basis:100%;font-size:.85rem}
input{font:inherit;padding:.4rem .5rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);min-width:16rem;max-width:100%}
button{font:inherit;padding:.4rem .8rem;border:1px solid var(--accent);border-radius:4px;background:var(--accent);color:var(--bg);cursor:pointer;min-height:2.25rem}
button.danger{background:transparent;color:var(--bad);border-color:var(--bad)}
button:disabled{opacity:.5;cursor:progress}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.status{min-height:1.5rem;margin:0;font-weight:600}.status.bad{color:var(--bad)}.status.ok{color:var(--ok)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.45rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--head);white-space:nowrap;position:sticky;top:0}
tbody tr:last-child>*{border-bottom:0}
td.error,.error{color:var(--bad);overflow-wrap:anywhere}.bad{color:var(--bad);font-weight:700}
.actions{white-space:nowrap}
#webhooks td{white-space:nowrap}
#webhooks td[data-label="Last error"]{white-space:normal;min-width:16rem}
#webhooks td[data-label="Retry policy"],#webhooks td[data-label="Events"]{white-space:normal;min-width:11rem}
#dead-letters td.error{min-width:18rem}
.buttons{display:flex;gap:.5rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;overflow-wrap:anywhere}
pre{max-height:20rem;overflow:auto;background:var(--head);padding:.5rem;border-radius:4px;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere}
summary{cursor:pointer}
.badge{display:inline-block;padding:0 .4rem;border-radius:999px;border:1px solid currentColor;font-size:.8rem;white-space:nowrap}
.circuit-closed,.kind-delivered{color:var(--ok)}.circuit-open,.kind-dead,.sev-critical,.sev-high{color:var(--bad)}
.circuit-half_open,.kind-retry,.kind-deferred,.sev-warning,.sev-medium{color:var(--warn)}
.feed ol{list-style:none;padding:0;margin:0;max-height:24rem;overflow:auto;border:1px solid var(--line);border-radius:6px}
.feed li{padding:.35rem .6rem;border-bottom:1px solid var(--line);font-size:.88rem;overflow-wrap:anywhere}
.feed li time{color:var(--muted)}
@media (max-width:720px){
body{padding:.75rem}
.table-wrap{border:0;overflow:visible}
table,thead,tbody,tr,th,td{display:block;width:100%}
thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tbody tr{border:1px solid var(--line);border-radius:6px;margin-bottom:.75rem;padding:.25rem 0}
tbody th,tbody td{border:0;padding:.25rem .75rem;display:grid;grid-template-columns:8.5rem 1fr;gap:.5rem}
tbody th::before,tbody td::before{content:attr(data-label);font-weight:600;color:var(--muted)}
tbody td>*,tbody th>*{justify-self:start}
#webhooks td,#webhooks td[data-label]{white-space:normal;min-width:0}#dead-letters td.error{min-width:0}
tbody th{font-size:1rem}
input{min-width:0;flex:1}
}
`;

/** `/assets/dashboard.js` */
export const SCRIPT = `'use strict';
(() => {
  const KEY = 'empathy-dashboard-token';
  const HEADER = '${TOKEN_HEADER}';
  // The start-up link carries the token in its #fragment, which browsers never send to a server.
  // Keep it for this tab only and take it out of the address bar.
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const say = (text, kind) => {
    status.textContent = text;
    status.className = 'status ' + (kind || '');
  };
  const tokenInput = $('token');
  const showToken = () => {
    tokenInput.placeholder = sessionStorage.getItem(KEY) ? 'token set for this tab' : 'paste the token';
  };
  showToken();
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = tokenInput.value.trim();
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
    tokenInput.value = '';
    showToken();
    say(value ? 'Token set: replay and delete are enabled.' : 'Token cleared.', 'ok');
  });

  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const response = await fetch('/partials/main', { headers: { accept: 'text/html' } });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const html = await response.text();
      const main = $('main');
      if (html === main.dataset.html) return;
      // Keep what the reader was doing: the focused button and the events they opened.
      const focused = document.activeElement && document.activeElement.closest('[data-id]');
      const focusKey = focused ? focused.dataset.id + '|' + (document.activeElement.dataset.action || '') : null;
      const open = [...main.querySelectorAll('tr[data-id] details[open]')].map((d) => d.closest('tr').dataset.id);
      main.innerHTML = html;
      main.dataset.html = html;
      for (const row of main.querySelectorAll('tr[data-id]')) {
        if (open.includes(row.dataset.id)) row.querySelector('details').open = true;
      }
      if (focusKey) {
        const [id, action] = focusKey.split('|');
        const target = [...main.querySelectorAll('button[data-id]')].find((b) => b.dataset.id === id && b.dataset.action === action);
        if (target) target.focus();
      }
    } catch (error) {
      say('Could not refresh: ' + error.message, 'bad');
    } finally {
      refreshing = false;
      if (again) { again = false; setTimeout(refresh, 250); }
    }
  }

  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { action, id } = button.dataset;
    const token = sessionStorage.getItem(KEY);
    if (!token) {
      say('Enter the action token printed when the dashboard started.', 'bad');
      tokenInput.focus();
      return;
    }
    if (action === 'delete' && !confirm('Delete dead letter ' + id + '? It cannot be replayed afterwards.')) return;
    button.disabled = true;
    try {
      const response = await fetch('/api/dead-letters/' + encodeURIComponent(id) + '/' + action, {
        method: 'POST',
        headers: { [HEADER]: token },
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 401 || response.status === 403) {
        say('The token was refused: enter the one printed when the dashboard started.', 'bad');
        button.disabled = false;
        tokenInput.focus();
        return;
      }
      if (!response.ok && response.status !== 404) throw new Error(body.error || 'HTTP ' + response.status);
      const row = button.closest('tr');
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      const counter = $('dead-count');
      if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) - 1));
      const focusTarget = next && next.querySelector('button[data-action="' + action + '"]');
      if (focusTarget) focusTarget.focus(); else $('main').focus();
      say(response.status === 404
        ? id + ' was already gone.'
        : action === 'replay' ? 'Replayed ' + id + ': it is back in the queue.' : 'Deleted ' + id + '.', 'ok');
      refresh();
    } catch (error) {
      button.disabled = false;
      say(action + ' failed: ' + error.message, 'bad');
    }
  });

  if (document.body.dataset.live === 'true' && 'EventSource' in window) {
    const feed = $('feed');
    let timer = null;
    const source = new EventSource('/api/events');
    source.addEventListener('outcome', (event) => {
      const { html } = JSON.parse(event.data);
      feed.insertAdjacentHTML('afterbegin', html);
      while (feed.children.length > 100) feed.lastElementChild.remove();
      $('feed-empty').hidden = true;
      if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, 1000);
    });
  } else {
    setInterval(refresh, 5000);
  }
})();
`;
