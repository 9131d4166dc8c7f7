import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  parseCommonOptions,
  parseEndpointOption,
  WebhookConfigError,
  WebhookDeliveryError,
} from '../src/index.js';

describe('parseEndpointOption', () => {
  const where = { option: 'webhookUrl', webhook: 'chat', what: 'the channel webhook URL' };

  it('accepts https anywhere and http to this machine only', () => {
    expect(parseEndpointOption('https://hooks.example.com/T/B/secret', where).host).toBe('hooks.example.com');
    expect(parseEndpointOption(new URL('http://127.0.0.1:8080/x'), where).port).toBe('8080');
    expect(parseEndpointOption('http://localhost/x', where).hostname).toBe('localhost');
  });

  it('names the option and the webhook, and never quotes the value', () => {
    expect(() => parseEndpointOption(undefined, where)).toThrow(
      "[chat] option 'webhookUrl' is required: the channel webhook URL (a string)",
    );
    expect(() => parseEndpointOption('hooks.example.com/T/B/s3cr3t', where)).toThrow(
      "[chat] option 'webhookUrl' is not a valid URL",
    );
    expect(() => parseEndpointOption('http://hooks.example.com/T/B/s3cr3t', where)).toThrow(
      "[chat] option 'webhookUrl' must be an https URL (http is allowed only for localhost); got http://hooks.example.com",
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
