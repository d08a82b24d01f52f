import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { watchInterrupts } from "./interrupt.js";

describe("watchInterrupts", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("turns the first %s into an abort and a second signal into exit %i", (signal, code) => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const interruption = watchInterrupts(source as never, (c) => exits.push(c));
    expect(interruption.signal.aborted).toBe(false);
    source.emit(signal);
    expect(interruption.signal.aborted).toBe(true);
    expect(interruption.received).toBe(signal);
    expect(interruption.exitCode).toBe(code);
    expect(exits).toEqual([]);
    source.emit(signal);
    expect(exits).toEqual([code]);
    interruption.dispose();
    expect(source.listenerCount("SIGINT") + source.listenerCount("SIGTERM")).toBe(0);
  });
});
