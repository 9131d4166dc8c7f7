/**
 * (a) CustomWebhook delivery throughput (signing on, monitor on, concurrency 64) against raw
 *     undici.request at the same concurrency, same sink, same payload, interleaved runs.
 */
import { createHmac } from 'node:crypto';
import { EmpathyOS } from '@empathy/os';
import { createEvent } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { Pool } from 'undici';
import { type BenchRow, median, startSink } from './lib.js';

const CONCURRENCY = 64;
const N = 20_000;

/**
 * The headers a signed CustomWebhook request carries beyond the raw baseline's content-type, with
 * values of the real lengths, computed once: what signing costs on the wire (for client and sink
 * alike) before any HMAC is computed.
 */
const SIGNED_REQUEST_EXTRA_HEADERS = [
  'user-agent',
  'empathy-webhooks/0.1 (+https://github.com/empathy-framework/webhooks)',
  'x-signature',
  'c3b8c0a8d1f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b',
  'webhook-id',
  'evt_0123456789abcdef000000000001',
  'webhook-timestamp',
  '1795776000',
  'webhook-signature',
  'v1,K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=',
];

async function rawUndici(url: string, extraHeaders: readonly string[] = []): Promise<number> {
  const pool = new Pool(url, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const headers = ['content-type', 'application/json', ...extraHeaders];
  const body = JSON.stringify(createEvent('prediction', SAMPLE_DATA.prediction, { userId: 'developer_123' }));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) {
        const res = await pool.request({
          path: '/hook',
          method: 'POST',
          headers,
          body,
        });
        await res.body.dump();
      }
    }),
  );
  const rate = N / ((performance.now() - started) / 1000);
  await pool.close();
  return rate;
}

/**
 * The same work done by hand: a fresh event per request, serialised, signed with both schemes
 * (two HMACs), sent with raw undici. What our job model, queue and monitor cost on top of it is
 * the ratio against this row.
 */
async function handRolledSigned(url: string): Promise<number> {
  const pool = new Pool(url, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const secret = Buffer.from('YmVuY2gtc2lnbmluZy1zZWNyZXQtMTIzNDU2Nzg5MA==', 'base64');
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) {
        const event = createEvent('prediction', SAMPLE_DATA.prediction, { userId: 'developer_123' });
        const body = Buffer.from(JSON.stringify(event));
        const ts = String(Math.floor(Date.now() / 1000));
        const signature = createHmac('sha256', secret)
          .update(`${event.event_id}.${ts}.`)
          .update(body)
          .digest('base64');
        const headers = [
          'content-type',
          'application/json',
          'x-signature',
          createHmac('sha256', 'whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQtMTIzNDU2Nzg5MA==')
            .update(body)
            .digest('hex'),
          'webhook-id',
          event.event_id,
          'webhook-timestamp',
          ts,
          'webhook-signature',
          `v1,${signature}`,
        ];
        const res = await pool.request({ path: '/hook', method: 'POST', headers, body });
        await res.body.dump();
      }
    }),
  );
  const rate = N / ((performance.now() - started) / 1000);
  await pool.close();
  return rate;
}

async function customWebhook(url: string, signed = true): Promise<number> {
  const webhook = new CustomWebhook({
    name: 'bench',
    url: `${url}/hook`,
    ...(signed ? { signingSecret: 'whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQtMTIzNDU2Nzg5MA==' } : {}),
    concurrency: CONCURRENCY,
    allowPrivateNetwork: true,
  });
  const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [webhook] });
  const started = performance.now();
  for (let i = 0; i < N; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  await empathy.flush();
  const rate = N / ((performance.now() - started) / 1000);
  if (empathy.monitor.getWebhookStats('bench').successCount !== N)
    throw new Error('bench: not every event was delivered');
  await empathy.close();
  return rate;
}

export default async function run(): Promise<BenchRow[]> {
  const sink = await startSink('ok');
  try {
    const raw: number[] = [];
    const ours: number[] = [];
    const unsigned: number[] = [];
    const byHand: number[] = [];
    const rawSignedHeaders: number[] = [];
    await rawUndici(sink.url); // warm-up both paths
    await customWebhook(sink.url);
    for (let i = 0; i < 3; i++) {
      raw.push(await rawUndici(sink.url));
      ours.push(await customWebhook(sink.url));
      unsigned.push(await customWebhook(sink.url, false));
      byHand.push(await handRolledSigned(sink.url));
      rawSignedHeaders.push(await rawUndici(sink.url, SIGNED_REQUEST_EXTRA_HEADERS));
    }
    const r = median(raw);
    const o = median(ours);
    const u = median(unsigned);
    const h = median(byHand);
    const rh = median(rawSignedHeaders);
    return [
      {
        bench: 'CustomWebhook (signed, monitored, c=64)',
        metric: 'deliveries/s',
        value: Math.round(o),
        unit: 'req/s',
        baseline: Math.round(r),
        ratio: o / r,
        target: '>= 0.8x raw undici.request',
      },
      {
        bench: 'CustomWebhook unsigned (monitored, c=64)',
        metric: 'deliveries/s',
        value: Math.round(u),
        unit: 'req/s',
        baseline: Math.round(r),
        ratio: u / r,
      },
      {
        bench: 'CustomWebhook vs the same work by hand',
        metric: 'deliveries/s',
        value: Math.round(o),
        unit: 'req/s',
        baseline: Math.round(h),
        ratio: o / h,
        target: 'job model + queue + monitor overhead',
      },
      { bench: 'raw undici.request (c=64)', metric: 'requests/s', value: Math.round(r), unit: 'req/s' },
      {
        bench: 'raw undici.request + the signed headers, precomputed',
        metric: 'requests/s',
        value: Math.round(rh),
        unit: 'req/s',
        baseline: Math.round(r),
        ratio: rh / r,
        target: 'what the headers alone cost',
      },
    ];
  } finally {
    sink.stop();
  }
}
