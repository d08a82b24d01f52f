import { describe, expect, it } from "vitest";
import { holdConsoleOutput } from "./engine-output.js";

describe("holdConsoleOutput", () => {
  it("holds console.warn and console.error lines until taken, keeping the first 20 and the count", () => {
    const target = { warn: (..._: unknown[]) => undefined, error: (..._: unknown[]) => undefined };
    const { warn } = target;
    let written = "";
    const held = holdConsoleOutput(target, (text) => (written += text));
    // The wasm engine binds console.warn when it starts; bound after the hold, it still lands here.
    const bound = target.warn.bind(target);
    for (let n = 0; n < 28; n++) bound(`failed to allocate ${n} bytes`);
    target.error("Aborted(OOM)\n");
    const { lines, count } = held.take();
    expect(count).toBe(29);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe("failed to allocate 0 bytes");
    expect(held.take()).toEqual({ lines: [], count: 0 });
    expect(written).toBe("");
    held.release();
    expect(target.warn).toBe(warn);
  });

  it("says what was held as words for a one-line error, then holds nothing", () => {
    const target = { warn: console.warn, error: console.error };
    const held = holdConsoleOutput(target, () => undefined);
    expect(held.said()).toBe("");
    target.warn("failed to allocate 8 bytes");
    target.error("Aborted()");
    expect(held.said()).toBe(' (the engine printed "failed to allocate 8 bytes" and 1 more lines)');
    expect(held.take().count).toBe(0);
    held.release();
  });

  it("flush prints what is held and keeps holding", () => {
    const target = { warn: console.warn, error: console.error };
    let written = "";
    const held = holdConsoleOutput(target, (text) => (written += text));
    for (let n = 0; n < 25; n++) target.warn(`line ${n}`);
    held.flush();
    expect(written.split("\n").at(-2)).toBe("(5 more lines)");
    target.warn("later");
    expect(held.take()).toEqual({ lines: ["later"], count: 1 });
    held.release();
    expect(target.warn).toBe(console.warn);
  });

  it("prints what is still held when released", () => {
    const target = { warn: console.warn, error: console.error };
    let written = "";
    const held = holdConsoleOutput(target, (text) => (written += text));
    target.warn("a warning", 3);
    held.release();
    expect(written).toBe("a warning 3\n");
  });
});
