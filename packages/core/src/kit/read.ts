/**
 * Bounded reads of a response body. An error body is read only as far as its detail needs; a
 * success body only as far as the integration needs it. Whatever is left is cancelled, which
 * drops the connection instead of downloading the rest.
 */

/** How much of an error body is read for its detail. */
export const ERROR_BODY_BYTES = 8 * 1024;

/**
 * Reads at most `maxBytes` of `response`'s body as UTF-8 text and cancels the rest. Never throws:
 * a body that fails midway yields what arrived before.
 */
export async function readBodyText(response: Response, maxBytes: number = ERROR_BODY_BYTES): Promise<string> {
  const body = response.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A reset, an abort, a body over the transport's bound: keep what arrived.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, maxBytes);
  // A multi-byte character cut at the bound decodes to U+FFFD, never throws.
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/**
 * Reads at most `maxBytes` of `response`'s body and parses it as JSON; `undefined` when it is
 * empty, not JSON, or longer than the bound.
 */
export async function readBodyJson(
  response: Response,
  maxBytes: number = ERROR_BODY_BYTES,
): Promise<unknown> {
  const text = await readBodyText(response, maxBytes + 1);
  if (text === '' || Buffer.byteLength(text) > maxBytes) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
