import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'build/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The machine has 2 cores; guests are CPU-heavy. Keep files from fighting for them.
    fileParallelism: false,
  },
});
