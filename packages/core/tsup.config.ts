import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base.js';

export default defineConfig(
  packageConfig({
    index: 'src/index.ts',
    'kit/index': 'src/kit/index.ts',
    'queue/index': 'src/queue/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/fakes': 'src/testing/fakes.ts',
  }),
);
