/**
 * Redaction: what must never reach an error message, a log, the monitor or a dead letter.
 * Integrations register every secret they hold once, at construction; the error builders
 * redact with it before anything is truncated, so a secret cut in half by a length limit cannot
 * leak either.
 */

/** Pieces of a URL shorter than this are not treated as secrets (`api`, `v1`, `en-US`). */
const MIN_URL_PIECE = 6;
/** Secrets shorter than this are ignored: they would blank out ordinary words. */
const MIN_SECRET = 4;

/** Text put in place of a secret. */
export const REDACTED = '***';

/**
 * Collects secrets and removes them from text. A secret is also removed in its URL-encoded and
 * JSON-escaped forms, the two ways an endpoint most often echoes it back.
 *
 * @example
 * const redactor = new Redactor().addUrl(webhookUrl).addSecret(token).addHeaderValue(auth);
 * redactor.redact(`bad token ${token}`) // 'bad token ***'
 */
export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined | null = null;

  /** Adds a secret (a token, a password, a key). Empty and very short values are ignored. */
  addSecret(secret: string | undefined | null): this {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET) return this;
    for (const form of [secret, safeEncode(secret), JSON.stringify(secret).slice(1, -1)]) {
      if (form.length >= MIN_SECRET) this.#secrets.add(form);
    }
    this.#pattern = null;
    return this;
  }

  /**
   * Adds a credential-bearing URL (a webhook URL): the whole URL, its path and query, its user
   * and password, and each path segment and query value of 6 characters or more, so an endpoint
   * that echoes one piece (an Express 404 page, a 401 body) does not print it either.
   */
  addUrl(url: string | URL | undefined | null): this {
    if (url === undefined || url === null) return this;
    let parsed: URL;
    try {
      parsed = new URL(String(url));
    } catch {
      return this.addSecret(String(url));
    }
    this.addSecret(String(url)).addSecret(parsed.href);
    if (parsed.pathname.length > 1) this.addSecret(parsed.pathname);
    if (parsed.search.length > 1) this.addSecret(parsed.search.slice(1));
    this.addSecret(parsed.username).addSecret(parsed.password);
    for (const raw of parsed.pathname.split('/')) this.#addPiece(raw);
    for (const raw of parsed.search.slice(1).split('&')) this.#addPiece(raw.slice(raw.indexOf('=') + 1));
    return this;
  }

  /** Adds a header value the user gave: the value and each word of it (`Bearer <token>`). */
  addHeaderValue(value: string | undefined | null): this {
    if (typeof value !== 'string') return this;
    this.addSecret(value);
    for (const word of value.split(/\s+/)) {
      if (word.length >= MIN_URL_PIECE) this.addSecret(word);
    }
    return this;
  }

  /** Replaces every secret in `text` with `***`, longest first. */
  redact(text: string): string {
    if (this.#pattern === null) this.#pattern = this.#compile();
    return this.#pattern === undefined ? text : text.replace(this.#pattern, REDACTED);
  }

  /** Whether any secret was registered. */
  get size(): number {
    return this.#secrets.size;
  }

  #addPiece(raw: string): void {
    if (raw.length < MIN_URL_PIECE) return;
    this.addSecret(raw);
    try {
      this.addSecret(decodeURIComponent(raw.replace(/\+/g, ' ')));
      this.addSecret(decodeURIComponent(raw));
    } catch {
      // Not valid percent-encoding: the raw form is registered already.
    }
  }

  #compile(): RegExp | undefined {
    if (this.#secrets.size === 0) return undefined;
    const sorted = [...this.#secrets].sort((a, b) => b.length - a.length);
    return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }
}

function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate cannot be encoded; the raw form is registered.
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
