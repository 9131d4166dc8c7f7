#!/usr/bin/env node
/**
 * Publish dry run: packs every publishable package as `changeset publish` would (pnpm pack,
 * which rewrites `workspace:` ranges) and checks what each tarball would put on npm:
 *
 * - only package.json, README.md, LICENSE and dist/ (no src/, tests, golden files, fixtures,
 *   tsbuildinfo; dist/ itself holds no test or golden file);
 * - every file package.json points at (exports, main, types, bin) is in the tarball;
 * - source maps are self-contained: each .map carries the source text of every file it names
 *   (`sourcesContent`), so stack traces and debuggers show the TypeScript even though src/ is
 *   not shipped, and each `sourceMappingURL` names a map that is in the tarball;
 * - the published package.json has no `workspace:` range left, requires Node >=20.19.0, is ESM
 *   (`type: module`), names this repository, publishes with provenance, and its peer ranges on
 *   our 0.x packages hold their current version and exclude 1.0.
 *
 * Usage: node scripts/check-pack.mjs [--out DIR]   (after `pnpm build`; --out keeps the tarballs
 * there for scripts/smoke-node.mjs, otherwise they go to a temporary folder that is removed)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import semver from 'semver';
import { packAll, ROOT, readTarball } from './lib/pack.mjs';

const ENGINES = '>=20.19.0';
const TOP_LEVEL = new Set(['package.json', 'README.md', 'LICENSE']);
/** Files that are tests or test data wherever they sit. */
const NOT_SHIPPED = [
  /(^|\/)__golden__\//,
  /(^|\/)golden\//,
  /(^|\/)__snapshots__\//,
  /(^|\/)fixtures?\//,
  /\.(test|spec)(-d)?\.[cm]?[jt]sx?(\.map)?$/,
  /\.tsbuildinfo$/,
];
const { repository: rootRepository } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : mkdtempSync(join(tmpdir(), 'empathy-pack-'));
mkdirSync(out, { recursive: true });

let problems = 0;
try {
  const packed = packAll(out);
  const versions = new Map(packed.map((p) => [p.name, p.version]));
  for (const p of packed) {
    const files = readTarball(p.file);
    const found = checkTarball(p, files, versions);
    const bytes = [...files.values()].reduce((n, b) => n + b.length, 0);
    console.log(
      `pack: ${p.name}@${p.version} ${files.size} files, ${(bytes / 1024).toFixed(0)} KiB unpacked` +
        (found.length > 0 ? '' : ' ok'),
    );
    for (const f of found) console.error(`  ✗ ${f}`);
    problems += found.length;
  }
} finally {
  if (outFlag < 0) rmSync(out, { recursive: true, force: true });
}
if (problems > 0) {
  console.error(`pack: ${problems} problem(s); see above`);
  process.exit(1);
}
console.log(`pack: ok${outFlag > 0 ? ` (tarballs in ${out})` : ''}`);

/** Everything wrong with one package's tarball, as sentences. */
function checkTarball(p, files, versions) {
  const found = [];
  for (const path of files.keys()) {
    if (!TOP_LEVEL.has(path) && !path.startsWith('dist/'))
      found.push(`ships ${path} (only dist/, README.md, LICENSE)`);
    else if (NOT_SHIPPED.some((re) => re.test(path))) found.push(`ships test material ${path}`);
    else if (/\.[cm]?tsx?$/.test(path) && !/\.d\.[cm]?ts$/.test(path))
      found.push(`ships TypeScript source ${path}`);
  }
  for (const name of TOP_LEVEL) if (!files.has(name)) found.push(`has no ${name}`);
  if (!files.has('package.json')) return found;

  const pkg = JSON.parse(files.get('package.json').toString('utf8'));
  found.push(...checkManifest(pkg, p, versions));
  for (const target of entryFiles(pkg)) {
    if (!files.has(target)) found.push(`package.json points at ${target}, which is not in the tarball`);
  }
  for (const [path, contents] of files) {
    if (path.endsWith('.map')) found.push(...checkSourceMap(path, contents));
    if (/\.[cm]?js$/.test(path)) {
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(contents.toString('utf8'));
      if (ref && !ref[1].startsWith('data:')) {
        const map = posix.join(posix.dirname(path), ref[1]);
        if (!files.has(map)) found.push(`${path} names source map ${map}, which is not in the tarball`);
      }
    }
  }
  return found;
}

/** The published package.json: resolved ranges, engines, module type, metadata, peer ranges. */
function checkManifest(pkg, p, versions) {
  const found = [];
  if (pkg.name !== p.name || pkg.version !== p.version)
    found.push(`package.json says ${pkg.name}@${pkg.version}`);
  if (pkg.engines?.node !== ENGINES)
    found.push(`engines.node is ${JSON.stringify(pkg.engines?.node)}, not '${ENGINES}'`);
  if (pkg.type !== 'module') found.push(`type is ${JSON.stringify(pkg.type)}: the packages are ESM-only`);
  if (pkg.license !== 'MIT') found.push(`license is ${JSON.stringify(pkg.license)}`);
  if (pkg.repository?.url !== rootRepository.url) {
    found.push(
      `repository.url is ${JSON.stringify(pkg.repository?.url)}, not the root's ${rootRepository.url}`,
    );
  }
  const repoWeb = rootRepository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  if (!pkg.homepage?.startsWith(repoWeb))
    found.push(`homepage ${JSON.stringify(pkg.homepage)} is not under ${repoWeb}`);
  if (pkg.bugs?.url !== `${repoWeb}/issues`) found.push(`bugs.url is ${JSON.stringify(pkg.bugs?.url)}`);
  if (pkg.publishConfig?.provenance !== true) found.push('publishConfig.provenance is not true');
  for (const type of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
    for (const [dep, range] of Object.entries(pkg[type] ?? {})) {
      if (range.startsWith('workspace:')) found.push(`${type} keeps '${range}' for ${dep}`);
      const current = versions.get(dep);
      if (current === undefined || type === 'devDependencies') continue;
      if (!semver.satisfies(current, range))
        found.push(`${type} '${range}' on ${dep} excludes its version ${current}`);
      if (type === 'peerDependencies' && semver.major(current) === 0 && semver.satisfies('1.0.0', range)) {
        found.push(`peer range '${range}' on ${dep} admits 1.0 (0.x minors break; keep '<1')`);
      }
    }
  }
  return found;
}

/** The files `exports`, `main`, `types` and `bin` point at, without `./`. */
function entryFiles(pkg) {
  const targets = new Set();
  const walk = (value) => {
    if (typeof value === 'string') targets.add(posix.normalize(value));
    else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v);
  };
  walk(pkg.exports);
  walk(pkg.main);
  walk(pkg.types);
  walk(pkg.bin);
  return [...targets];
}

/** A map must carry the text of each source it names: src/ is not in the tarball. */
function checkSourceMap(path, contents) {
  let map;
  try {
    map = JSON.parse(contents.toString('utf8'));
  } catch {
    return [`${path} is not JSON`];
  }
  const sources = map.sources ?? [];
  const texts = map.sourcesContent ?? [];
  const missing = sources.filter((_, i) => typeof texts[i] !== 'string');
  return missing.length === 0
    ? []
    : [`${path} names ${missing.join(', ')} without its text (sourcesContent): a map to files not shipped`];
}
