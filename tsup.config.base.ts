import type { Options } from 'tsup';

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
  };
}
