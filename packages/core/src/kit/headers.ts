import { WebhookConfigError } from '../errors.js';

// RFC 9110 §5.1: a field name is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab: no CR, LF or NUL (header injection), nothing a server may mangle.
const VALUE = /^[\t\x20-\x7E]*$/;
// Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the transport computes: set by hand, they
// break framing or connection reuse.
const RESERVED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

/**
 * Validates user-given request headers at construction: names are tokens, values visible ASCII
 * without CR/LF, and no hop-by-hop or framing header. Returns them with lower-case names.
 * Throws a {@link WebhookConfigError} that names the header (never its value: it may be a
 * credential).
 *
 * @param reserved more names the integration sets itself (e.g. `content-type`, signature headers)
 */
export function parseHeaders(
  headers: unknown,
  where: { option: string; webhook: string; reserved?: readonly string[] | undefined },
): Record<string, string> {
  if (headers === undefined) return {};
  const fail = (rule: string): never => {
    throw new WebhookConfigError(`option '${where.option}' ${rule}`, { webhook: where.webhook });
  };
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    return fail('must be an object of header names to string values');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) fail(`has an invalid header name ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower) || where.reserved?.includes(lower)) {
      fail(`may not set '${lower}': it is set by the transport`);
    }
    if (typeof value !== 'string') fail(`'${name}' must be a string`);
    if (!VALUE.test(value as string)) {
      fail(`'${name}' must be visible ASCII without line breaks (CR/LF would split the request)`);
    }
    if (Object.hasOwn(out, lower)) fail(`sets '${lower}' twice`);
    out[lower] = value as string;
  }
  return out;
}
