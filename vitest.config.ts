import { defineConfig } from 'vitest/config'

// Unit tier only: lib/ over real fixtures. The integration tier (tests/it) is run by tests/run
// against the installed /opt/runcvm, never by vitest.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/unit/setup-assertions.ts'],
  },
})
