/**
 * ESM-only packages, loaded from CommonJS: on Node >= 20.19 `require()` of an ES module works
 * (require(esm)), and must hand back the very module `import()` gives (one copy, one class
 * identity). Run by scripts/smoke-node.mjs from its scratch install with the Node under test:
 * `node require-all.cjs <package>=<export> …`.
 */
const assert = require('node:assert/strict');

async function main() {
  const pairs = process.argv.slice(2).map((arg) => arg.split('='));
  if (pairs.length === 0) throw new Error('usage: node require-all.cjs <package>=<export> …');
  for (const [name, exported] of pairs) {
    const required = require(name);
    assert.equal(typeof required[exported], 'function', `require('${name}').${exported} is not a function`);
    const imported = await import(name);
    assert.equal(required[exported], imported[exported], `require('${name}') and import('${name}') differ`);
    console.log(`require('${name}').${exported} ok`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
