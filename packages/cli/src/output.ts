import type { DeferReason } from '@empathy/webhooks-core';
import type { CliIO, OutputStream } from './io.js';

/** ANSI styles, or identity functions when colours are off. */
export interface Palette {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
}

const style = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

/** Colours only when the stream is a TTY and `NO_COLOR` is unset (no-color.org). */
export function palette(stream: OutputStream, env: CliIO['env']): Palette {
  const on = stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
  if (!on) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    bold: style(1, 22),
    dim: style(2, 22),
    red: style(31, 39),
    green: style(32, 39),
    yellow: style(33, 39),
    cyan: style(36, 39),
  };
}

/** Writes one line. */
export function line(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`);
}

/** Writes one JSON line. */
export function jsonLine(stream: OutputStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}

/** Pads `text` to `width` characters (longer text is kept whole). */
export function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** Local wall-clock time, `HH:MM:SS`. */
export function clock(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}

/** Milliseconds as people read them: `840 ms`, `1.5 s`. */
export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;
}

/** Why a delivery waited, in words: the feed of `trigger` and of the dashboard. */
export const DEFER_REASON_TEXT: Readonly<Record<DeferReason, string>> = {
  rate_limit: 'rate limit',
  circuit_open: 'circuit open',
  incident_order: 'waits for an earlier notification of its incident',
};
