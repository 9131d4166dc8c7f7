import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WebhookConfigError, WebhookDeliveryError } from '../src/index.js';
import { parseCommonOptions, parseEndpointOption } from '../src/kit/index.js';

describe('parseEndpointOption', () => {
  const where = { option: 'webhookUrl', webhook: 'chat', what: 'the channel webhook URL' };

  it('accepts public https; http and private targets only with allowPrivateNetwork', () => {
    expect(parseEndpointOption('https://hooks.example.com/T/B/secret', where).host).toBe('hooks.example.com');
    const local = { ...where, allowPrivateNetwork: true };
    expect(parseEndpointOption(new URL('http://127.0.0.1:8080/x'), local).port).toBe('8080');
    expect(parseEndpointOption('http://localhost/x', local).hostname).toBe('localhost');
    expect(parseEndpointOption('https://10.0.0.1/x', local).hostname).toBe('10.0.0.1');
    for (const [url, reason] of [
      ['https://127.0.0.1/x', 'loopback'],
      ['https://localhost/x', 'loopback'],
      ['https://api.localhost/x', 'loopback'],
      ['https://169.254.169.254/latest', 'link-local / cloud metadata'],
      ['https://10.0.0.1/x', 'private'],
      ['https://[fd00::1]/x', 'unique local (private)'],
      ['https://[::ffff:127.0.0.1]/x', 'loopback'],
    ] as const) {
      expect(() => parseEndpointOption(url, where), url).toThrow(
        `points at a ${reason} address (${new URL(url).origin}); set allowPrivateNetwork: true to allow it`,
      );
    }
  });

  it('names the option and the webhook, and never quotes the value', () => {
    expect(() => parseEndpointOption(undefined, where)).toThrow(
      "[chat] option 'webhookUrl' is required: the channel webhook URL (a string)",
    );
    expect(() => parseEndpointOption('hooks.example.com/T/B/s3cr3t', where)).toThrow(
      "[chat] option 'webhookUrl' is not a valid URL",
    );
    expect(() => parseEndpointOption('http://hooks.example.com/T/B/s3cr3t', where)).toThrow(
      "[chat] option 'webhookUrl' must be an https URL (got http://hooks.example.com); plain http is allowed only with allowPrivateNetwork: true",
    );
  });
});

describe('parseCommonOptions', () => {
  it('fills defaults and validates every common option', () => {
    const parsed = parseCommonOptions({}, { name: 'pager', events: ['alert'], concurrency: 2 });
    expect(parsed).toMatchObject({ name: 'pager', events: ['alert'], concurrency: 2 });
    expect(() => parseCommonOptions({ concurrency: 0 }, { name: 'pager', events: ['alert'] })).toThrow(
      "[pager] option 'concurrency' must be an integer from 1 to 1024 (got 0)",
    );
    expect(() => parseCommonOptions({ events: [] }, { name: 'pager' })).toThrow(
      /option 'events' must be a non-empty array/,
    );
    expect(() => parseCommonOptions({ filter: 'high' as never }, { name: 'pager', events: ['*'] })).toThrow(
      "[pager] option 'filter' must be a function (event) => boolean",
    );
    expect(() => parseCommonOptions({ name: 'has space' }, { name: 'pager', events: ['*'] })).toThrow(
      /option 'name'/,
    );
  });
});

describe('errors as printed', () => {
  it('print no `[cause]: undefined` when there is no cause, and the cause when there is one', () => {
    expect(inspect(new WebhookConfigError("option 'url' is required", { webhook: 'w' }))).not.toContain(
      '[cause]',
    );
    const wrapped = new WebhookDeliveryError('request failed', {
      webhook: 'w',
      cause: new Error('ECONNRESET'),
    });
    expect(inspect(wrapped)).toContain('[cause]: Error: ECONNRESET');
  });
});
