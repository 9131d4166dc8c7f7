#!/usr/bin/env node
/**
 * Versioning check: does `changeset version` do what a maintainer means?
 *
 * Copies the repository into a temporary folder once per scenario (of the files git knows, what
 * `changeset version` reads and writes: .changeset/, the workspace file, every package.json and
 * CHANGELOG.md; no node_modules: the root's is symlinked), writes the scenario's changesets, runs the repository's own
 * `changeset version`, and compares every package.json before and after. It fails, naming the
 * package, when
 *
 * - a package would leave 0.x (0.1.0 → 1.0.0: what `^0.1.0` peer ranges on core used to cause);
 * - a package gets a bump no changeset asked for, except the one changesets means by
 *   `updateInternalDependencies: "patch"`: a patch for a package whose `dependencies` (or
 *   `optionalDependencies`) range on a released workspace package no longer holds the new
 *   version, so that it is republished with a range that does (`@empathy/os` and the CLI depend
 *   on core; without that patch their users would get a second, older core);
 * - a package asked for one bump and would get a bigger one;
 * - any range a package publishes (or already published, if it is not released) on another
 *   workspace package excludes that package's new version, or a peer range on a 0.x package
 *   loses its `<1` upper bound (a peer range rewritten to `>=0.2.0` would accept core 1.0).
 *
 * Scenarios: the pending changesets in .changeset/ as they are (the next real release), and, with
 * the pending ones removed, a minor on core plus a patch on one integration, and minors on two
 * packages the CLI builds on (one a dependency, one an optional peer).
 *
 * Usage: node scripts/check-versioning.mjs [--keep]   (--keep leaves the temporary copies)
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEP_TYPES = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'];
/** Dependency types whose range ends up in the published package.json and is resolved by users. */
const PUBLISHED_DEP_TYPES = ['dependencies', 'optionalDependencies', 'peerDependencies'];
/** A range left by its dependency's new version makes changesets patch the dependent for these. */
const REPUBLISH_DEP_TYPES = ['dependencies', 'optionalDependencies'];
const BUMPS = ['patch', 'minor', 'major'];

const SCENARIOS = [
  { name: 'pending changesets (the next release)', keepPending: true, changesets: [] },
  {
    name: 'a minor on core and a patch on one integration',
    keepPending: false,
    changesets: [{ '@empathy/webhooks-core': 'minor', '@empathy/webhooks-slack': 'patch' }],
  },
  {
    name: 'minors on a dependency and an optional peer of the CLI',
    keepPending: false,
    changesets: [{ '@empathy/webhooks-http': 'minor' }, { '@empathy/webhooks-store-sqlite': 'minor' }],
  },
];

const keep = process.argv.includes('--keep');
const scratch = mkdtempSync(join(tmpdir(), 'empathy-versioning-'));
const files = gitFiles();
let failures = 0;
try {
  for (const [i, scenario] of SCENARIOS.entries()) {
    const problems = runScenario(join(scratch, String(i)), scenario);
    failures += problems.length;
  }
} finally {
  if (keep) console.log(`versioning: copies kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`versioning: ${failures} problem(s); see above`);
  process.exit(1);
}
console.log('versioning: ok');

/** Runs one scenario in `dir`; prints what moved and returns the problems found. */
function runScenario(dir, scenario) {
  copyRepo(dir);
  const changesetDir = join(dir, '.changeset');
  if (!scenario.keepPending) {
    for (const f of readdirSync(changesetDir)) {
      if (f.endsWith('.md') && f !== 'README.md') rmSync(join(changesetDir, f));
    }
  }
  for (const [i, releases] of scenario.changesets.entries()) {
    const front = Object.entries(releases).map(([name, bump]) => `"${name}": ${bump}`);
    writeFileSync(
      join(changesetDir, `zz-check-versioning-${i}.md`),
      `---\n${front.join('\n')}\n---\n\nversioning check\n`,
    );
  }

  const asked = askedBumps(changesetDir);
  const before = readPackages(dir);
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'changeset'), ['version'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1' },
    });
  } catch (error) {
    const out = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    console.error(`versioning [${scenario.name}]: changeset version failed:\n${out}`);
    return ['changeset version failed'];
  }
  const after = readPackages(dir);

  const problems = [...checkBumps(before, after, asked), ...checkRanges(before, after)];
  console.log(`versioning [${scenario.name}]:`);
  for (const [name, b] of before) {
    if (b.private) continue;
    const a = after.get(name);
    if (a.version !== b.version) {
      const why = asked.has(name) ? `asked ${asked.get(name)}` : 'dependency moved';
      console.log(`  ${name} ${b.version} → ${a.version} (${why})`);
    }
  }
  for (const p of problems) console.error(`  ✗ ${p}`);
  return problems;
}

/**
 * Every version change must be the bump its changesets asked for, or the patch changesets gives
 * a package whose `dependencies` range it publishes no longer holds a released dependency.
 */
function checkBumps(before, after, asked) {
  const problems = [];
  for (const [name, b] of before) {
    if (b.private) continue;
    const a = after.get(name);
    if (semver.major(b.version) === 0 && semver.major(a.version) > 0) {
      problems.push(`${name} would leave 0.x: ${b.version} → ${a.version}`);
      continue;
    }
    if (a.version === b.version) {
      if (asked.has(name)) problems.push(`${name} asked for a ${asked.get(name)} and was not bumped`);
      continue;
    }
    const got = bumpType(b.version, a.version);
    const want = asked.get(name);
    if (want !== undefined) {
      if (got !== want)
        problems.push(`${name} asked for a ${want} and would get a ${got}: ${b.version} → ${a.version}`);
      continue;
    }
    const reasons = leftDependencyRanges(b, before, after);
    if (got !== 'patch' || reasons.length === 0) {
      problems.push(
        `${name} would get a ${got} nobody asked for: ${b.version} → ${a.version}` +
          (reasons.length === 0 ? ' (no dependency range it publishes was left)' : ''),
      );
    }
  }
  return problems;
}

/**
 * The ranges users resolve must hold the new versions: a package that is not released keeps the
 * ranges it published (computed from its old package.json), a released one publishes its new
 * package.json; and a peer range on a 0.x package must keep excluding 1.0.
 */
function checkRanges(before, after) {
  const problems = [];
  for (const [name, b] of before) {
    if (b.private) continue;
    const a = after.get(name);
    const released = a.version !== b.version;
    const manifest = released ? a : b;
    const versionsAtPublish = released ? after : before;
    for (const type of PUBLISHED_DEP_TYPES) {
      for (const [dep, spec] of Object.entries(manifest.json[type] ?? {})) {
        const target = after.get(dep);
        if (!target) continue; // not a workspace package
        const range = publishedRange(spec, versionsAtPublish.get(dep).version);
        if (!semver.satisfies(target.version, range)) {
          problems.push(
            `${name}@${manifest.version} ${released ? 'would publish' : 'published'} ${type} '${range}' on ${dep}, ` +
              `which excludes ${dep}@${target.version}`,
          );
        }
        if (
          type === 'peerDependencies' &&
          semver.major(target.version) === 0 &&
          semver.satisfies('1.0.0', range)
        ) {
          problems.push(
            `${name}@${manifest.version} would publish peer range '${range}' on ${dep}: it lost its '<1' bound`,
          );
        }
      }
    }
  }
  return problems;
}

/** The dependencies ranges `pkg` publishes (from its old package.json) that its dependencies' new versions leave. */
function leftDependencyRanges(pkg, before, after) {
  const reasons = [];
  for (const type of REPUBLISH_DEP_TYPES) {
    for (const [dep, spec] of Object.entries(pkg.json[type] ?? {})) {
      const old = before.get(dep);
      const next = after.get(dep);
      if (!old || old.version === next.version) continue;
      const range = publishedRange(spec, old.version);
      if (!semver.satisfies(next.version, range))
        reasons.push(`${type} '${range}' on ${dep} excludes ${next.version}`);
    }
  }
  return reasons;
}

/** The range pnpm publishes for a dependency spec (`workspace:` rewritten with the dependency's version). */
function publishedRange(spec, version) {
  if (!spec.startsWith('workspace:')) return spec;
  const rest = spec.slice('workspace:'.length);
  if (rest === '*') return version;
  if (rest === '^' || rest === '~') return `${rest}${version}`;
  return rest;
}

/** 'major' | 'minor' | 'patch': the semver component that changed. */
function bumpType(from, to) {
  if (semver.major(to) !== semver.major(from)) return 'major';
  if (semver.minor(to) !== semver.minor(from)) return 'minor';
  return 'patch';
}

/** The biggest bump each package's changesets ask for, read from their front matter. */
function askedBumps(changesetDir) {
  const asked = new Map();
  for (const f of readdirSync(changesetDir)) {
    if (!f.endsWith('.md') || f === 'README.md') continue;
    const text = readFileSync(join(changesetDir, f), 'utf8');
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
    if (!front) throw new Error(`versioning: ${f} has no front matter`);
    for (const line of front[1].split(/\r?\n/)) {
      if (!line.trim()) continue;
      const m = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch|none)\s*$/.exec(line);
      if (!m) throw new Error(`versioning: cannot read '${line}' in ${f}`);
      const [, name, bump] = m;
      if (bump === 'none') continue;
      const prev = asked.get(name);
      if (!prev || BUMPS.indexOf(bump) > BUMPS.indexOf(prev)) asked.set(name, bump);
    }
  }
  return asked;
}

/** name → { version, private, json } for every workspace package in `dir`. */
function readPackages(dir) {
  const packages = new Map();
  for (const folder of ['packages', 'examples', 'bench', 'test-consumers']) {
    const top = join(dir, folder);
    if (!existsSync(top)) continue;
    const candidates = existsSync(join(top, 'package.json'))
      ? [top]
      : readdirSync(top).map((d) => join(top, d));
    for (const p of candidates) {
      const file = join(p, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8'));
      packages.set(json.name, { version: json.version ?? '0.0.0', private: json.private === true, json });
    }
  }
  for (const p of packages.values()) {
    for (const type of DEP_TYPES) if (p.json[type]) p.json[type] = { ...p.json[type] };
  }
  return packages;
}

/** Copies what changesets reads of the files git knows (tracked, or untracked and not ignored) and links the root node_modules. */
function copyRepo(dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const from = join(ROOT, f);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(from, join(dir, f));
  }
  // changesets resolves its changelog generator from the copy's .changeset folder.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

function gitFiles() {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const read = (f) =>
    f.startsWith('.changeset/') || /(^|\/)(package\.json|CHANGELOG\.md|pnpm-workspace\.yaml)$/.test(f);
  return [...new Set(out.split('\0').filter(Boolean))].filter(read);
}
