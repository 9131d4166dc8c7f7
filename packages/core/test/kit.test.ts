import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryError } from '../src/errors.js';
import type { EmpathyEvent } from '../src/events.js';
import { httpError, MAX_ERROR_DETAIL, networkError } from '../src/kit/delivery-errors.js';
import { parseHeaders } from '../src/kit/headers.js';
import { readBodyJson, readBodyText } from '../src/kit/read.js';
import { Redactor } from '../src/kit/redact.js';
import { BlockedAddressError } from '../src/kit/ssrf.js';
import { cleanJson, cleanText, truncateText } from '../src/kit/text.js';
import { HttpTransport, ResponseTooLargeError } from '../src/kit/transport.js';
import { WebhookBase } from '../src/kit/webhook-base.js';
import type { DeliveryContext, DeliveryReceipt } from '../src/plugin.js';
import { DEFAULT_RETRY_POLICY, isOutage, isRetryable, normalizeRetryPolicy } from '../src/policies/retry.js';
import { sampleEvent, UNSAFE_CHARACTERS } from '../src/testing/samples.js';

describe('text policy', () => {
  it('strips every unsafe class and keeps text, tabs, newlines and emoji', () => {
    const unsafe = [
      '\u0000',
      '\u0007',
      '\u001B',
      '\u007F',
      '\u0085',
      '\u009B',
      '\u061C',
      '\u180E',
      '\u200B',
      '\u200C',
      '\u200D',
      '\u200E',
      '\u200F',
      '\u202A',
      '\u202B',
      '\u202C',
      '\u202D',
      '\u202E',
      '\u2060',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\uFEFF',
      '\uD800',
      '\uDFFF',
    ];
    for (const ch of unsafe) {
      const out = cleanText(`a${ch}b`);
      expect(out, `U+${ch.charCodeAt(0).toString(16)}`).toBe('ab');
      expect(UNSAFE_CHARACTERS.test(out)).toBe(false);
    }
    expect(cleanText('line\r\nnext\rlast\ttab 😀 é 中')).toBe('line\nnext\nlast\ttab 😀 é 中');
  });

  it('cleans JSON text by the same policy, and returns clean JSON as it is', () => {
    const clean = JSON.stringify({ a: 'plain text', n: 1, nested: ['tab\tline\n'] });
    expect(cleanJson(clean)).toBe(clean);
    const dirty = JSON.stringify({ 'k\u202E': 'a\u0007b\bc\fd\u200Be\uD800f', list: [{ x: 'y\u0085' }] });
    expect(JSON.parse(cleanJson(dirty))).toEqual({ k: 'abcdef', list: [{ x: 'y' }] });
  });

  it('truncates between code points, never inside a surrogate pair, with an ellipsis', () => {
    expect(truncateText('hello world', 8)).toBe('hello w…');
    expect(truncateText('short', 10)).toBe('short');
    const emoji = '😀😀😀😀';
    for (let max = 1; max <= emoji.length; max++) {
      const out = truncateText(emoji, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(UNSAFE_CHARACTERS.test(out)).toBe(false);
    }
  });
});

describe('Redactor and the error builders', () => {
  const SECRET = 'tok_9f8e7d6c5b4a3210';
  const URL_SECRET = 'https://hooks.example.com/services/T0AAA111/B0BBB222/XyZ123abcDEF?sig=c2lnbmF0dXJl&v=1';

  it('redacts a secret and every credential-bearing piece of a URL, raw, URL-encoded or JSON-escaped', () => {
    const r = new Redactor().addSecret(SECRET).addUrl(URL_SECRET).addHeaderValue('Bearer abc/def+ghi=jk');
    const text = `a ${SECRET} b /T0AAA111/ c XyZ123abcDEF d c2lnbmF0dXJl e ${encodeURIComponent('abc/def+ghi=jk')} f services`;
    const out = r.redact(text);
    for (const leaked of [
      SECRET,
      'T0AAA111',
      'XyZ123abcDEF',
      'c2lnbmF0dXJl',
      'abc/def+ghi=jk',
      'abc%2Fdef',
    ]) {
      expect(out).not.toContain(leaked);
    }
    // Every path segment of 6+ characters is treated as a secret, route words included: the
    // kit errs on the side of hiding; short pieces stay readable.
    expect(out).toBe('a *** b /***/ c *** d *** e *** f ***');
    expect(r.redact('v=1 at /api/')).toBe('v=1 at /api/');
  });

  it('redacts before it cuts: a secret across the cut point leaks no piece of itself', () => {
    const scope = {
      webhook: 'w',
      target: 'https://api.example.com',
      redactor: new Redactor().addSecret(SECRET),
    };
    for (let offset = MAX_ERROR_DETAIL - SECRET.length - 4; offset <= MAX_ERROR_DETAIL + 2; offset++) {
      const error = httpError(scope, { status: 401, detail: `${'·'.repeat(offset)}${SECRET}` });
      const printed = `${error.message} ${inspect(error)}`;
      for (let i = 0; i + 6 <= SECRET.length; i++) expect(printed).not.toContain(SECRET.slice(i, i + 6));
    }
  });

  it('shapes the message once: name, status, target, code, detail, retry after', () => {
    const scope = { webhook: 'slack', target: 'Slack chat.postMessage', redactor: new Redactor() };
    const error = httpError(scope, {
      status: 429,
      code: 'ratelimited',
      detail: 'slow\u202E down\n now',
      retryAfterMs: 30_000,
    });
    expect(error.message).toBe(
      '[slack] HTTP 429 from Slack chat.postMessage (ratelimited): slow down now (retry after 30s)',
    );
    expect(error).toMatchObject({ status: 429, retryAfterMs: 30_000, retryable: true, code: 'ratelimited' });
  });

  it('makes a refused address permanent and never attaches the SDK error', () => {
    const scope = { webhook: 'w', target: 'https://x.example', redactor: new Redactor().addSecret(SECRET) };
    const blocked = networkError(
      scope,
      new Error('fetch failed', { cause: new BlockedAddressError('x', '10.0.0.1', 'private') }),
    );
    expect(blocked).toMatchObject({ retryable: false, code: 'ESSRFBLOCKED' });
    const sdk = Object.assign(new Error(`connect ECONNREFUSED with Authorization: Bearer ${SECRET}`), {
      code: 'ECONNREFUSED',
      config: { headers: { authorization: `Bearer ${SECRET}` } },
    });
    const error = networkError(scope, sdk);
    expect(error).toMatchObject({ retryable: true, code: 'ECONNREFUSED' });
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(SECRET);
  });
});

describe('one retry rule', () => {
  const policy = normalizeRetryPolicy(undefined, 'w');
  it.each([
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [501, false],
    [502, true],
    [503, true],
    [504, true],
    [505, false],
    [400, false],
    [401, false],
    [404, false],
  ])('HTTP %i: the error, the policy and the breaker agree (retryable: %s)', (status, retryable) => {
    const error = new WebhookDeliveryError('x', { status, retryable: !retryable });
    expect(error.retryable).toBe(retryable);
    expect(isRetryable(policy, error)).toBe(retryable);
    expect(isOutage(policy, error)).toBe(retryable && status !== 429);
  });
  it('a Retry-After makes any status retryable; the default list is the policy default', () => {
    expect(new WebhookDeliveryError('x', { status: 501, retryAfterMs: 1000 }).retryable).toBe(true);
    expect(DEFAULT_RETRY_POLICY.retryOnStatus).toEqual([408, 425, 429, 500, 502, 503, 504]);
  });
});

describe('parseHeaders', () => {
  it('lower-cases names and refuses injection, non-ASCII and hop-by-hop headers', () => {
    expect(parseHeaders({ 'X-Api-Key': 'k' }, { option: 'headers', webhook: 'w' })).toEqual({
      'x-api-key': 'k',
    });
    for (const [headers, message] of [
      [{ a: 'x\r\ny: 1' }, /visible ASCII without line breaks/],
      [{ a: 'x\ny' }, /visible ASCII/],
      [{ a: 'ü' }, /visible ASCII/],
      [{ 'a b': 'x' }, /invalid header name/],
      [{ Host: 'evil' }, /may not set 'host'/],
      [{ 'Content-Length': '1' }, /may not set 'content-length'/],
      [{ a: 1 }, /'a' must be a string/],
      [{ A: 'x', a: 'y' }, /sets 'a' twice/],
    ] as const) {
      expect(() => parseHeaders(headers, { option: 'headers', webhook: 'w' })).toThrow(message);
    }
  });
});

describe('HttpTransport', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let closed = 0;
  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    server = createServer(handler);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => {
        closed++;
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
    closed = 0;
  });

  it('refuses private targets by address and by DNS answer before connecting', async () => {
    let hits = 0;
    const origin = await serve((_req, res) => {
      hits++;
      res.end('ok');
    });
    const port = new URL(origin).port;
    const guarded = new HttpTransport();
    await expect(guarded.fetch(`${origin}/x`)).rejects.toBeInstanceOf(BlockedAddressError);
    await expect(guarded.fetch(`http://[::ffff:7f00:1]:${port}/x`)).rejects.toBeInstanceOf(
      BlockedAddressError,
    );
    await expect(guarded.fetch(`http://localhost:${port}/x`)).rejects.toThrow(/loopback address/);
    expect(hits).toBe(0);
    const open = new HttpTransport({ allowPrivateNetwork: true });
    expect(await (await open.fetch(`http://localhost:${port}/x`)).text()).toBe('ok');
    open.close();
  });

  it('aborts a body that never ends at the signal, and drops the connection', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const http = new HttpTransport({ allowPrivateNetwork: true });
    const controller = new AbortController();
    const response = await http.fetch(`${origin}/stream`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('deadline')), 100);
    await expect(response.text()).rejects.toThrow('deadline');
    await expect.poll(() => closed, { timeout: 5000 }).toBeGreaterThan(0);
    http.close();
  });

  it('bounds the body, after decompression', async () => {
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024));
    const origin = await serve((req, res) => {
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(bomb);
      } else {
        res.end(gzipSync('{"ok":true}'));
      }
    });
    const http = new HttpTransport({ allowPrivateNetwork: true, maxResponseBytes: 64 * 1024 });
    await expect((await http.fetch(`${origin}/gzip`)).arrayBuffer()).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    http.close();
  });

  it('decodes gzip, reads bounded text and JSON, and never follows a redirect', async () => {
    const origin = await serve((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
      res.end(gzipSync(JSON.stringify({ id: 'x'.repeat(20_000) })));
    });
    const http = new HttpTransport({ allowPrivateNetwork: true });
    const redirect = await http.fetch(`${origin}/redirect`);
    expect(redirect.status).toBe(302);
    expect((await readBodyText(await http.fetch(`${origin}/json`), 100)).length).toBe(100);
    expect(await readBodyJson(await http.fetch(`${origin}/json`), 100)).toBeUndefined();
    expect(await readBodyJson(await http.fetch(`${origin}/json`), 50_000)).toMatchObject({
      id: expect.any(String),
    });
    http.close();
  });

  it('sends a Request object (ky), URLSearchParams (Slack) and string bodies', async () => {
    const seen: string[] = [];
    const origin = await serve(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push(`${req.method} ${req.headers['content-type']} ${body}`);
      res.end();
    });
    const http = new HttpTransport({ allowPrivateNetwork: true });
    await http.fetch(
      new Request(`${origin}/a`, {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      }),
    );
    await http.fetch(`${origin}/b`, {
      method: 'POST',
      body: new URLSearchParams({ text: 'hi there' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(seen).toEqual([
      'POST application/json {"a":1}',
      'POST application/x-www-form-urlencoded text=hi+there',
    ]);
    http.close();
  });
});

describe('WebhookBase', () => {
  class Echo extends WebhookBase<{ text: string }> {
    readonly target = 'echo';
    sent: { text: string }[] = [];
    protected render(event: EmpathyEvent) {
      return { text: `${'x'.repeat(50)} ${event.event_type}` };
    }
    protected override fit(payload: { text: string }) {
      return { text: truncateText(cleanText(payload.text), 20) };
    }
    protected async send(
      payload: { text: string },
      _e: EmpathyEvent,
      _c: DeliveryContext,
    ): Promise<DeliveryReceipt> {
      this.sent.push(payload);
      return {};
    }
  }
  const ctx: DeliveryContext = {
    signal: new AbortController().signal,
    attempt: 1,
    idempotencyKey: 'k',
    timeoutMs: 1000,
  };

  it("applies the vendor's limits to what format returns, and names a failing format", async () => {
    const echo = new Echo(
      { format: (_e, d) => ({ text: `${d.text}\u202Emore` }) },
      { name: 'echo', events: ['*'] },
    );
    await echo.deliver(sampleEvent('alert'), ctx);
    expect(echo.sent[0]!.text.length).toBeLessThanOrEqual(20);
    const broken = new Echo(
      {
        format: () => {
          throw new Error('boom');
        },
      },
      { name: 'echo', events: ['*'] },
    );
    await expect(broken.deliver(sampleEvent('alert'), ctx)).rejects.toMatchObject({
      message: "[echo] option 'format' threw: boom",
      retryable: false,
      code: 'EFORMAT',
    });
    const empty = new Echo({ format: () => undefined as never }, { name: 'echo', events: ['*'] });
    await expect(empty.deliver(sampleEvent('alert'), ctx)).rejects.toThrow(/must return the payload/);
    expect(() => new Echo({ format: 'x' as never }, { name: 'echo', events: ['*'] })).toThrow(
      /option 'format' must be a function/,
    );
    expect(() => new Echo({ allowPrivateNetwork: 'yes' as never }, { name: 'echo', events: ['*'] })).toThrow(
      /'allowPrivateNetwork' must be a boolean/,
    );
  });

  it('sends JSON with any method: the body, content-type, user agent and headers of postJson', async () => {
    // A plugin that creates a record with a POST and updates it with a PATCH, as Discord and Grafana do.
    class Records extends WebhookBase<{ id: string; text: string }> {
      readonly target: string;
      constructor(readonly origin: string) {
        super({ allowPrivateNetwork: true }, { name: 'records', events: ['*'], userAgent: 'records/1.0' });
        this.target = origin;
      }
      protected render(event: EmpathyEvent) {
        return { id: event.event_id, text: event.event_type };
      }
      protected async send(payload: { id: string; text: string }, _e: EmpathyEvent, c: DeliveryContext) {
        const created = await this.postJson(`${this.origin}/records`, payload, c);
        await created.body?.cancel();
        const edited = await this.sendJson(
          'PATCH',
          `${this.origin}/records/${payload.id}`,
          '{"text":"x"}',
          c,
          {
            authorization: 'Bearer t',
          },
        );
        await edited.body?.cancel();
        return { status: edited.status };
      }
    }
    const seen: unknown[] = [];
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { 'content-type': type, 'user-agent': agent, authorization } = req.headers;
      seen.push({ method: req.method, url: req.url, type, agent, authorization, body });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const records = new Records(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const event = sampleEvent('alert');
      expect(await records.deliver(event, ctx)).toEqual({ status: 200 });
      const common = { type: 'application/json', agent: 'records/1.0' };
      expect(seen).toEqual([
        {
          method: 'POST',
          url: '/records',
          ...common,
          authorization: undefined,
          body: JSON.stringify({ id: event.event_id, text: 'alert' }),
        },
        {
          method: 'PATCH',
          url: `/records/${event.event_id}`,
          ...common,
          authorization: 'Bearer t',
          body: '{"text":"x"}',
        },
      ]);
    } finally {
      await records.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
