import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { invocation } from "./invocation.js";

describe("invocation", () => {
  it("repeats the package manager's start script when the CLI runs under one", () => {
    expect(invocation({ npm_lifecycle_event: "start", npm_config_user_agent: "pnpm/10.12.1 npm/? node/v20.20.2 linux x64" }, "dist/main.js")).toBe("pnpm --filter cli start");
    expect(invocation({ npm_lifecycle_event: "start", npm_config_user_agent: "npm/10.8.2 node/v20.20.2 linux x64", npm_package_json: "/src/my repo/apps/cli/package.json" }, "dist/main.js")).toBe(
      "npm --prefix '/src/my repo/apps/cli' start --",
    );
  });

  it("is node and the script's absolute path otherwise, since the bin name is not on PATH after pnpm install", () => {
    expect(invocation({}, "dist/main.js")).toBe(`node ${resolve("dist/main.js")}`);
    // Another script of a package manager (a test, say) is not how a user starts the CLI.
    expect(invocation({ npm_lifecycle_event: "test", npm_config_user_agent: "pnpm/10.12.1" }, "/opt/cli/main.js")).toBe("node /opt/cli/main.js");
    expect(invocation({}, "/tmp/it's here/main.js")).toBe(`node '/tmp/it'\\''s here/main.js'`);
  });
});
