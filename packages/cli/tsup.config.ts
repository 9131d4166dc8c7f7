import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base.js';

export default defineConfig(
  packageConfig({ index: 'src/index.ts', cli: 'src/cli.ts', 'dashboard/index': 'src/dashboard/index.ts' }),
);
