import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { userAgent } from '../src/kit/index.js';

describe('userAgent()', () => {
  it('names the package, its version and where to read about it', () => {
    expect(
      userAgent({
        name: '@empathy/webhooks-http',
        version: '0.2.0',
        homepage: 'https://example.org/x#readme',
      }),
    ).toBe('@empathy/webhooks-http/0.2.0 (+https://example.org/x#readme)');
    expect(userAgent({ name: 'acme-webhooks', version: '1.0.0-beta.1+sha.5' })).toBe(
      'acme-webhooks/1.0.0-beta.1+sha.5',
    );
  });

  it("takes a package.json as imported, so a release's new version shows up without a code change", () => {
    expect(userAgent(pkg)).toBe(`@empathy/webhooks-core/${pkg.version} (+${pkg.homepage})`);
  });

  it('refuses values that cannot go in a header, naming the field', () => {
    expect(() => userAgent({ name: '', version: '1.0.0' })).toThrow(
      /'name' must be a non-empty header token/,
    );
    expect(() => userAgent({ name: 'a\r\nx-injected: 1', version: '1.0.0' })).toThrow(/'name'/);
    expect(() => userAgent({ name: 'a', version: '1.0 beta' })).toThrow(/'version'.*"1\.0 beta"/);
    expect(() => userAgent({ name: 'a', version: undefined as unknown as string })).toThrow(
      /'version'.*got undefined/,
    );
    expect(() => userAgent({ name: 'a', version: '1.0.0', homepage: 'javascript:alert(1)' })).toThrow(
      /'homepage' must be an http\(s\) URL/,
    );
    expect(() => userAgent({ name: 'a', version: '1.0.0', homepage: 'https://x.org/a b' })).toThrow(
      /'homepage'/,
    );
  });
});
