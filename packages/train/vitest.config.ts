import { defineConfig } from "vitest/config";

// Tests run on source: the "source" export condition points workspace
// packages at src/index.ts, so no build is needed first.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { testTimeout: 60_000, hookTimeout: 60_000 },
});
