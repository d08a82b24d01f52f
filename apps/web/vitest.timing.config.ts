import { defineConfig } from "vitest/config";

// `pnpm --filter web bench` only: the CLI-against-page timing, too long for the test suite.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { include: ["src/**/*.timing.ts"], testTimeout: 1_800_000, hookTimeout: 120_000 },
});
