/**
 * Packing the publishable packages exactly as `changeset publish` would (pnpm rewrites the
 * `workspace:` ranges), and reading the tarballs back. Shared by check-pack.mjs and
 * smoke-node.mjs so both look at the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `npx -y pnpm@<the version in packageManager>`: the pnpm this repository pins. */
export function pnpmCommand() {
  const { packageManager } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!/^pnpm@\d+\.\d+\.\d+$/.test(packageManager ?? '')) {
    throw new Error(
      `package.json 'packageManager' must pin pnpm@x.y.z, got ${JSON.stringify(packageManager)}`,
    );
  }
  return ['npx', ['-y', packageManager]];
}

/** The publishable workspace packages: { name, version, dir } for each packages/* that is not private. */
export function publishablePackages() {
  const top = join(ROOT, 'packages');
  return readdirSync(top)
    .map((d) => join(top, d))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ json }) => json.private !== true)
    .map(({ dir, json }) => ({ name: json.name, version: json.version, dir }));
}

/**
 * Packs every publishable package into `outDir` with `pnpm pack` (after `pnpm build`: dist/ must
 * exist) and returns { name, version, dir, file } for each, `file` being the tarball's path.
 */
export function packAll(outDir) {
  const packages = publishablePackages();
  const unbuilt = packages.filter((p) => !existsSync(join(p.dir, 'dist')));
  if (unbuilt.length > 0) {
    throw new Error(`no dist/ in ${unbuilt.map((p) => p.name).join(', ')}: run \`pnpm build\` first`);
  }
  const [cmd, args] = pnpmCommand();
  execFileSync(cmd, [...args, '-r', '--filter', './packages/*', 'pack', '--pack-destination', outDir], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return packages.map((p) => {
    const file = join(outDir, `${p.name.replace(/^@/, '').replace('/', '-')}-${p.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack wrote no ${file} for ${p.name}`);
    return { ...p, file };
  });
}

/**
 * The files of a .tgz as a Map of path (without the leading `package/`) → contents. A plain
 * ustar reader: npm tarballs hold regular files only, with the long-name prefix field.
 */
export function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map();
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const name = field(0, 100);
    const prefix = field(345, 155);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const path = prefix ? `${prefix}/${name}` : name;
    offset += 512;
    if (type === '0') files.set(path.replace(/^package\//, ''), tar.subarray(offset, offset + size));
    else if (type !== '5') throw new Error(`${file}: unexpected entry type '${type}' for ${path}`);
    offset += Math.ceil(size / 512) * 512;
  }
  return files;
}
