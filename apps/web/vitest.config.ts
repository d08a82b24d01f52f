import { defineConfig } from "vitest/config";

// The test trains its reference model in Node on the packages' source (the "source" export
// condition), and builds and serves the page itself, so nothing needs building first.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { include: ["src/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
});
