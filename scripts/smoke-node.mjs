#!/usr/bin/env node
/**
 * Install smoke test on the Node majors users run (22 and 24; the full suite runs on this
 * machine's Node 20). For each major, with that Node from the npm registry (`npx -p node@N`):
 *
 * 1. a scratch project outside the repository gets the packed tarballs by `npm install` of the
 *    .tgz files, run with that Node first on PATH, so better-sqlite3's install script fetches or
 *    compiles the addon for that Node's ABI; the install must print no EBADENGINE and no
 *    install-script warning (the scratch project approves better-sqlite3 in `allowScripts`, as
 *    the store-sqlite README tells npm users to);
 * 2. every entry point of each installed package is `require()`d from CommonJS (require(esm),
 *    test-consumers/require-all.cjs) and is the module `import()` gives;
 * 3. the README's Quick start runs as copied, with only its endpoints pointed at loopback fakes
 *    (Slack's incoming webhook URL through SLACK_WEBHOOK_URL, as in the README; the custom URL
 *    with `allowPrivateNetwork: true`); the fakes check what arrived, signature and user agent
 *    included;
 * 4. a durable delivery: one process emits into a SqliteQueue and dies without close() while the
 *    receiver answers 503; a second process opens the file and delivers the same event; then
 *    `empathy-webhooks stats` reads the file;
 * 5. `empathy-webhooks --help` and `--version`.
 *
 * Caches, so repeated runs stay fast (all outside the repository, under --cache, by default
 * ~/.cache/empathy-webhooks): npm's own cache (`--prefer-offline`); the
 * Node headers for node-gyp (from the registry's node-<platform>-<arch> package: a global
 * `nodedir` such as this machine's /usr would otherwise build against Node 20's headers); and
 * better-sqlite3's addon per version and ABI, saved after a build in prebuild-install's asset
 * layout and offered back through its `local-prebuilds` setting (in a .prebuild-installrc: npm 11
 * warns about unknown `npm_config_*` keys such as better_sqlite3_local_prebuilds).
 * Without a cached addon, prebuild-install downloads one from GitHub, or node-gyp compiles it
 * (a minute or two per Node; python3, make and a C++ compiler).
 *
 * Usage: node scripts/smoke-node.mjs [--tarballs DIR] [--node 22 --node 24] [--cache DIR] [--keep]
 *   --tarballs: the output of `node scripts/check-pack.mjs --out DIR` (else this packs)
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { packAll, publishablePackages, ROOT } from './lib/pack.mjs';

/** What the scratch project installs, with an export each must provide. */
const INSTALL = {
  '@empathy/webhooks-core': 'verifyWebhookSignature',
  '@empathy/os': 'EmpathyOS',
  '@empathy/webhooks-http': 'CustomWebhook',
  '@empathy/webhooks-slack': 'SlackWebhook',
  '@empathy/webhooks-store-sqlite': 'SqliteQueue',
  // The CLI's `listen` is built on the receiver.
  '@empathy/webhooks-receiver': 'createReceiver',
  '@empathy/webhooks-cli': 'runCli',
};
const STEP_TIMEOUT_MS = 120_000;
const INSTALL_TIMEOUT_MS = 600_000; // a cold compile of better-sqlite3 on a busy 2-core machine
const SECRET = 'whsec_c21va2UtdGVzdC1zZWNyZXQtMTIzNDU2Nzg5MA==';

const args = parseArgs(process.argv.slice(2));
const cacheRoot = args.cache;
const work = mkdtempSync(join(tmpdir(), 'empathy-smoke-'));
let failed = false;
try {
  const tarballDir = args.tarballs ?? join(work, 'tarballs');
  if (!args.tarballs) mkdirSync(tarballDir);
  const tarballs = args.tarballs ? existingTarballs(tarballDir) : packAll(tarballDir);
  for (const major of args.nodes) {
    const started = Date.now();
    try {
      await smoke(major, tarballs);
      console.log(`smoke: Node ${major} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed = true;
      console.error(`smoke: Node ${major} FAILED: ${error instanceof Error ? error.message : error}`);
    }
  }
} finally {
  if (args.keep) console.log(`smoke: scratch projects kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** The whole smoke run on one Node major. */
async function smoke(major, tarballs) {
  const node = await resolveNode(major);
  console.log(`smoke: Node ${major} is ${node.version} (ABI ${node.abi}) at ${node.execPath}`);
  const env = {
    ...process.env,
    PATH: `${dirname(node.execPath)}${delimiter}${process.env.PATH}`,
    npm_config_nodedir: ensureHeaders(node),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    JOBS: '2', // node-gyp: compile better-sqlite3's two sources side by side when it must build
  };
  delete env.NODE_OPTIONS; // this process's flags are not the scratch project's

  const scratch = join(work, `node${major}`);
  mkdirSync(scratch);
  const manifest = {
    name: 'empathy-smoke',
    private: true,
    type: 'module',
    allowScripts: { 'better-sqlite3': true },
    // The better-sqlite3 the suite tested on Node 20 (the lockfile's), not whatever 12.x is newest
    // today: the result does not change under us, and its cached addon stays valid.
    overrides: { 'better-sqlite3': testedVersion('better-sqlite3') },
  };
  writeFileSync(join(scratch, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const files = Object.keys(INSTALL).map((name) => {
    const t = tarballs.find((p) => p.name === name);
    if (!t) throw new Error(`no tarball for ${name}`);
    return t.file;
  });

  // 1. npm install of the tarballs, with the Node under test running npm and the install scripts.
  const prebuilds = join(cacheRoot, 'prebuilds');
  // prebuild-install reads this file (rc) from the folders above its own: the scratch project.
  writeFileSync(join(scratch, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
  const cachedBefore = existsSync(prebuilds) ? new Set(readdirSync(prebuilds)) : new Set();
  const t0 = Date.now();
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files], {
    cwd: scratch,
    env,
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  const noise = install.output
    .split('\n')
    .filter((line) => /EBADENGINE|install-scripts|ERR_|gyp ERR/.test(line));
  if (noise.length > 0) throw new Error(`npm install warned:\n${noise.join('\n')}`);
  for (const line of install.output.split('\n').filter((l) => /^npm warn/i.test(l)))
    console.log(`  (${line})`);
  const addon = cacheAddon(scratch, node, prebuilds, cachedBefore);
  console.log(`  npm install: ${((Date.now() - t0) / 1000).toFixed(1)} s (better-sqlite3 ${addon})`);

  // 2. require() and import() of every entry point of every installed package.
  copyFileSync(join(ROOT, 'test-consumers', 'require-all.cjs'), join(scratch, 'require-all.cjs'));
  const loaded = await run(node.execPath, ['require-all.cjs', ...Object.keys(INSTALL)], {
    cwd: scratch,
    env,
  });
  console.log(`  ${loaded.stdout.trim().split('\n').at(-1)}`);
  await run(
    node.execPath,
    [
      '--input-type=module',
      '-e',
      `for (const [name, exported] of ${JSON.stringify(Object.entries(INSTALL))}) {
        if (typeof (await import(name))[exported] !== 'function') throw new Error(name + ' has no ' + exported);
      }`,
    ],
    { cwd: scratch, env },
  );

  const receiver = await startReceiver();
  try {
    await quickStart(node, scratch, env, receiver, tarballs);
    await durableDelivery(node, scratch, env, receiver);
    await cli(scratch, env, tarballs);
  } finally {
    await receiver.close();
  }
}

/** 3. The README's Quick start, as copied, against the loopback receiver. */
async function quickStart(node, scratch, env, receiver, tarballs) {
  writeFileSync(join(scratch, 'quickstart.mjs'), readmeQuickStart());
  receiver.requests.length = 0;
  const result = await run(node.execPath, ['quickstart.mjs'], {
    cwd: scratch,
    env: {
      ...env,
      SLACK_WEBHOOK_URL: `${receiver.url}/services/T0SMOKE/B0SMOKE/smokeTokenValue`,
      OPS_WEBHOOK_URL: `${receiver.url}/hooks/empathy`,
      WEBHOOK_SECRET: SECRET,
    },
  });
  const slack = receiver.requests.filter((r) => r.path.startsWith('/services/'));
  const ops = receiver.requests.filter((r) => r.path === '/hooks/empathy');
  expect(slack.length === 1, `Slack's fake got ${slack.length} requests, expected 1`);
  expect(ops.length === 1, `the custom endpoint got ${ops.length} requests, expected 1`);
  const message = JSON.parse(slack[0].body);
  expect(
    Array.isArray(message.blocks) && /Error rate above 5% on checkout/.test(slack[0].body),
    `Slack's fake got no Block Kit message with the alert: ${slack[0].body.slice(0, 200)}`,
  );
  const event = JSON.parse(ops[0].body);
  expect(event.event_type === 'alert', `the custom endpoint got event_type ${event.event_type}`);
  const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(ops[0].body).digest('hex');
  expect(ops[0].headers['x-signature'] === expected, 'the custom endpoint got a wrong X-Signature');
  const http = tarballs.find((t) => t.name === '@empathy/webhooks-http');
  expect(
    ops[0].headers['user-agent']?.startsWith(`@empathy/webhooks-http/${http.version} (+https://`),
    `user-agent is ${ops[0].headers['user-agent']}`,
  );
  expect(
    /successRate: 1\b/.test(result.output),
    `the Quick start printed no successRate 1:\n${result.output}`,
  );
  console.log('  README Quick start (Slack + signed CustomWebhook): ok');
}

/** 4. A SqliteQueue delivery that survives the producing process dying. */
async function durableDelivery(node, scratch, env, receiver) {
  copyFileSync(join(ROOT, 'scripts', 'smoke', 'durable.mjs'), join(scratch, 'durable.mjs'));
  const db = join(scratch, 'webhooks.db');
  const url = `${receiver.url}/durable`;
  receiver.requests.length = 0;
  receiver.durableUp = false;
  const produced = await run(node.execPath, ['durable.mjs', 'produce', db, url], { cwd: scratch, env });
  const eventId = produced.stdout.trim();
  expect(/^evt_/.test(eventId), `the producer printed no event id: ${produced.output}`);
  receiver.durableUp = true;
  const consumed = await run(node.execPath, ['durable.mjs', 'consume', db, url], { cwd: scratch, env });
  const delivered = receiver.requests.filter((r) => r.path === '/durable' && r.status === 200);
  expect(delivered.length >= 1, `the receiver never accepted the durable event:\n${consumed.output}`);
  expect(
    delivered.every((r) => JSON.parse(r.body).event_id === eventId),
    `the receiver got another event than ${eventId}`,
  );
  // The file, read by the CLI (better-sqlite3 again, from another package).
  const stats = await run(bin(scratch), ['stats', '--db', db, '--json'], { cwd: scratch, env });
  const ops = JSON.parse(stats.stdout).webhooks?.find((row) => row.webhook === 'ops');
  expect(
    ops?.pending === 0 && ops.dead === 0 && ops.recentlyDelivered === 1,
    `empathy-webhooks stats should show 'ops' with 1 delivered, 0 pending, 0 dead:\n${stats.stdout}`,
  );
  console.log(
    `  durable SqliteQueue delivery after a crash: ok (${receiver.requests.length - delivered.length} refused, ${delivered.length} delivered)`,
  );
}

/** 5. The CLI's help and version, through the installed bin. */
async function cli(scratch, env, tarballs) {
  const help = await run(bin(scratch), ['--help'], { cwd: scratch, env });
  expect(/^Usage: empathy-webhooks <command>/m.test(help.stdout), `--help printed:\n${help.output}`);
  const version = await run(bin(scratch), ['--version'], { cwd: scratch, env });
  const cliVersion = tarballs.find((t) => t.name === '@empathy/webhooks-cli').version;
  expect(
    version.stdout.includes(cliVersion),
    `--version printed ${version.stdout.trim()}, not ${cliVersion}`,
  );
  console.log('  empathy-webhooks --help / --version: ok');
}

/**
 * The README's Quick start code block, made runnable against the fakes: the TypeScript
 * non-null assertions on `process.env` go, and the custom endpoint's URL becomes
 * OPS_WEBHOOK_URL, and both it and the Slack webhook get `allowPrivateNetwork: true` (their fakes
 * are on 127.0.0.1). Anything else in it must run as written.
 */
function readmeQuickStart() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error("README.md has no '## Quick start' section with a ```ts block");
  let replaced = 0;
  const js = code.replace(/(process\.env\.[A-Z_]+)!/g, '$1').replace(/url: 'https:\/\/[^']+',/g, () => {
    replaced += 1;
    return 'url: process.env.OPS_WEBHOOK_URL, allowPrivateNetwork: true,';
  });
  if (replaced !== 1) {
    throw new Error(
      `README Quick start has ${replaced} "url: 'https://…'," lines, expected 1: update smoke-node.mjs`,
    );
  }
  // The Slack fake is on 127.0.0.1 too: the plugin kit refuses it without the opt-in.
  let slack = 0;
  const out = js.replace(/webhookUrl: process\.env\.SLACK_WEBHOOK_URL,/g, () => {
    slack += 1;
    return 'webhookUrl: process.env.SLACK_WEBHOOK_URL, allowPrivateNetwork: true,';
  });
  if (slack !== 1) {
    throw new Error(
      `README Quick start has ${slack} SlackWebhook webhookUrl lines, expected 1: update smoke-node.mjs`,
    );
  }
  return out;
}

/** A loopback receiver for every fake: Slack's incoming webhook, the custom endpoint, the durable one. */
async function startReceiver() {
  const requests = [];
  const state = { durableUp: false };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = path === '/durable' && !state.durableUp ? 503 : 200;
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unavailable');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    set durableUp(up) {
      state.durableUp = up;
    },
    close: () => new Promise((done) => server.close(done)),
  };
}

/** The Node binary of a major, from the npm registry's `node` package (cached by npx). */
async function resolveNode(major) {
  const probe =
    'const r=process.report.getReport().header;console.log(JSON.stringify({execPath:process.execPath,' +
    'version:process.version,abi:process.versions.modules,platform:process.platform,arch:process.arch,' +
    'musl:process.platform==="linux"&&!r.glibcVersionRuntime}))';
  const result = await run('npx', ['-y', '-p', `node@${major}`, 'node', '-e', probe], {
    cwd: work,
    env: process.env,
  });
  const info = JSON.parse(result.stdout.trim().split('\n').at(-1));
  if (!info.version.startsWith(`v${major}.`))
    throw new Error(`npx -p node@${major} ran Node ${info.version}`);
  return info;
}

/** A folder with this Node's headers (include/node), for node-gyp; from the registry, cached. */
function ensureHeaders(node) {
  const dir = join(cacheRoot, 'node-headers', `${node.version}-${node.platform}-${node.arch}`);
  if (existsSync(join(dir, 'include', 'node', 'node_version.h'))) return dir;
  const spec = `node-${node.platform}-${node.arch}@${node.version.slice(1)}`;
  const tmp = mkdtempSync(join(work, 'headers-'));
  const name = execFileSync(
    'npm',
    ['pack', spec, '--prefer-offline', '--silent', '--pack-destination', tmp],
    {
      encoding: 'utf8',
      timeout: STEP_TIMEOUT_MS,
    },
  )
    .trim()
    .split('\n')
    .at(-1);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', join(tmp, name), '-C', dir, '--strip-components=1', 'package/include'], {
    timeout: STEP_TIMEOUT_MS,
  });
  rmSync(tmp, { recursive: true, force: true });
  return dir;
}

/**
 * Checks that better-sqlite3 loads on this Node and saves its addon in prebuild-install's layout
 * (build/Release/better_sqlite3.node in `better-sqlite3-v<version>-node-v<abi>-<platform><libc>-<arch>.tar.gz`)
 * if the cache has none. Returns how the install got it.
 */
function cacheAddon(scratch, node, prebuilds, cachedBefore) {
  const pkgDir = join(scratch, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const libc = node.musl ? 'musl' : '';
  const asset = `better-sqlite3-v${version}-node-v${node.abi}-${node.platform}${libc}-${node.arch}.tar.gz`;
  const cached = join(prebuilds, asset);
  const addon = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(addon)) throw new Error(`better-sqlite3 ${version} installed without ${addon}`);
  if (cachedBefore.has(asset)) {
    // A compile leaves obj.target/ behind; a prebuild is the .node alone.
    if (existsSync(join(pkgDir, 'build', 'Release', 'obj.target'))) {
      throw new Error(
        `better-sqlite3 was compiled although ${cached} was cached: local-prebuilds not honoured`,
      );
    }
    return `${version}, from the cached addon`;
  }
  if (existsSync(cached)) return `${version}, built by its install script`; // cached meanwhile
  mkdirSync(dirname(cached), { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  execFileSync('tar', ['czf', tmp, '-C', pkgDir, 'build/Release/better_sqlite3.node']);
  execFileSync('mv', [tmp, cached]);
  return `${version}, built by its install script; addon cached`;
}

/** The version of a store-sqlite dependency installed in the workspace (from the lockfile). */
function testedVersion(name) {
  const require = createRequire(join(ROOT, 'packages', 'store-sqlite', 'package.json'));
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
}

/** The installed `empathy-webhooks` bin: its `#!/usr/bin/env node` finds the Node under test first on PATH. */
function bin(scratch) {
  return join(scratch, 'node_modules', '.bin', 'empathy-webhooks');
}

/** The tarballs check-pack.mjs left in `dir`, one per publishable package. */
function existingTarballs(dir) {
  return publishablePackages().map((p) => {
    const file = join(resolve(dir), `${p.name.replace(/^@/, '').replace('/', '-')}-${p.version}.tgz`);
    if (!existsSync(file)) throw new Error(`no ${file}: run node scripts/check-pack.mjs --out ${dir}`);
    return { ...p, file };
  });
}

/** Runs a command; resolves with its output, rejects with it on a non-zero exit or the timeout. */
function run(cmd, argv, { cwd, env, timeoutMs = STEP_TIMEOUT_MS }) {
  return new Promise((done, fail) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(new Error(`${cmd} ${argv.join(' ')}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done({ stdout, output });
      else {
        const why = signal ? `killed by ${signal} (timeout ${timeoutMs / 1000} s?)` : `exit ${code}`;
        fail(new Error(`${cmd} ${argv.slice(0, 3).join(' ')}… ${why}:\n${output.slice(-4000)}`));
      }
    });
  });
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

function parseArgs(argv) {
  const out = {
    nodes: [],
    keep: false,
    tarballs: undefined,
    cache: join(homedir(), '.cache', 'empathy-webhooks'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') out.keep = true;
    else if (arg === '--tarballs') out.tarballs = resolve(argv[++i] ?? '');
    else if (arg === '--cache') out.cache = resolve(argv[++i] ?? '');
    else if (arg === '--node') {
      const major = argv[++i];
      if (!/^\d+$/.test(major ?? '')) throw new Error(`--node takes a major version, got ${major}`);
      out.nodes.push(Number(major));
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (out.nodes.length === 0) out.nodes = [22, 24];
  return out;
}
