import { readFileSync } from "node:fs";

/** The cli package's version, from the nearest package.json above this module (src/ in tests, dist/ when built). */
export function cliVersion(): string {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    try {
      return (JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { version: string }).version;
    } catch {
      if (dir.pathname === "/") return "unknown";
    }
  }
}
