/**
 * The packages are ESM-only. On Node >= 20.19, CommonJS code can still load them with
 * `require()` (require(esm)); this checks that it does, for every entry point each package
 * exports, and that `require()` hands back the very module `import()` gives (one instance, so
 * `instanceof` and the error guards agree across both).
 *
 *   node require-all.cjs [package …]   (default: every @empathy package in ./package.json)
 *
 * Also run by scripts/smoke-node.mjs on Node 22 and 24 against the packed tarballs, the CLI's
 * included (not a dependency here: a fresh install would warn that its bin is not built yet).
 */
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Entry points that only load inside a test runner. */
const SKIP = {
  '@empathy/webhooks-core/testing': 'the contract suite calls vitest, which only loads inside a vitest run',
};

async function main() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    throw new Error(`Node ${process.versions.node}: require() of ES modules needs Node >= 20.19 (engines)`);
  }
  const own = JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8'));
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(own.devDependencies ?? {});
  let loaded = 0;
  for (const name of names.filter((n) => n.startsWith('@empathy/'))) {
    const manifest = require(`${name}/package.json`);
    assert.equal(manifest.type, 'module', `${name} is not ESM-only`);
    for (const subpath of Object.keys(manifest.exports)) {
      if (subpath === './package.json') continue;
      const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
      if (SKIP[specifier]) {
        console.log(`skip ${specifier}: ${SKIP[specifier]}`);
        continue;
      }
      const required = require(specifier);
      assert.ok(Object.keys(required).length > 0, `require('${specifier}') exports nothing`);
      assert.equal(required, await import(specifier), `require('${specifier}') and import() differ`);
      loaded += 1;
    }
  }
  assert.ok(loaded > 0, 'no package loaded');
  console.log(`require(esm): ${loaded} entry points load from CommonJS on Node ${process.versions.node}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
