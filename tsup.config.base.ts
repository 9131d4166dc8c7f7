import { readFile } from 'node:fs/promises';
import type { Options } from 'tsup';

/**
 * A package's own package.json, imported for its identity (the user agent, `--version`), is
 * bundled with only the fields read at run time: the rest (scripts, devDependencies) has no
 * business in dist/.
 */
const packageIdentity: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'package-identity',
  setup(build) {
    build.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      const { name, version, homepage } = JSON.parse(await readFile(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version, homepage }), loader: 'json' };
    });
  },
};

/**
 * The one build config every package shares: ESM + .d.ts for Node 20, no bundled dependencies.
 * A package's tsup.config.ts passes its entry points.
 */
export function packageConfig(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    esbuildPlugins: [packageIdentity],
  };
}
