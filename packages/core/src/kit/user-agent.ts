/** What {@link userAgent} reads of an integration's package.json. */
export interface PackageIdentity {
  /** The npm name, e.g. `@empathy/webhooks-http`. */
  readonly name: string;
  /** The published version, e.g. `0.2.0`. */
  readonly version: string;
  /** Where a receiver's operator can read about the caller; shown as `(+url)`. */
  readonly homepage?: string | undefined;
}

// Header-safe product tokens (RFC 9110 §10.1.5: product = token ["/" product-version]).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z@/-]+$/;

/**
 * The `user-agent` an integration sends, built from its own package.json so it names the
 * package and version that actually made the request and never goes stale after a release:
 * `@empathy/webhooks-http/0.2.0 (+https://…)`. The `(+url)` comment is the convention crawlers
 * use to tell a receiver's operator who is calling.
 *
 * Throws a `TypeError` naming the field when the package.json values cannot go in a header.
 *
 * @example
 * import pkg from '../package.json' with { type: 'json' };
 * const USER_AGENT = userAgent(pkg); // '@empathy/webhooks-http/0.2.0 (+https://github.com/…#readme)'
 */
export function userAgent(pkg: PackageIdentity): string {
  for (const field of ['name', 'version'] as const) {
    const value: unknown = pkg[field];
    if (typeof value !== 'string' || !TOKEN.test(value)) {
      throw new TypeError(
        `userAgent(): package.json '${field}' must be a non-empty header token, got ${describe(value)}`,
      );
    }
  }
  if (pkg.homepage === undefined) return `${pkg.name}/${pkg.version}`;
  if (!isHttpUrl(pkg.homepage)) {
    throw new TypeError(
      `userAgent(): package.json 'homepage' must be an http(s) URL, got ${describe(pkg.homepage)}`,
    );
  }
  return `${pkg.name}/${pkg.version} (+${pkg.homepage})`;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value) || /[()]/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
