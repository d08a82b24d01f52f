import { describe, expect, it } from "vitest";
import { encodeSummaryEvent } from "./event.js";
import { frameRecord } from "./record.js";
import { decodeEvent, parseRecords } from "./events.test-support.js";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!, (b) => parseInt(b, 16));

// TensorBoard's worked example (tools/tbcheck/README.md), bytes produced by
// TensorBoard's own serializer and record writer:
// Event{wall_time: 1700000000, step: 1, summary{value{tag: "loss", simple_value: 0.5}}}.
const EVENT_HEX = "09 00 00 00 40 fc 54 d9 41  10 01  2a 0d 0a 0b 0a 04 6c 6f 73 73 15 00 00 00 3f";
const EVENT = hex(EVENT_HEX);
const RECORD = hex(`1a 00 00 00 00 00 00 00  12 9b d8 2d  ${EVENT_HEX}  8d b0 2e 39`);

describe("frameRecord", () => {
  it("frames TensorBoard's example event byte for byte", () => {
    expect(frameRecord(EVENT)).toEqual(RECORD);
  });

  it("writes an event byte-identical to TensorBoard's serializer", () => {
    expect(encodeSummaryEvent(1700000000, 1, "loss", { kind: "scalar", value: 0.5 }, false)).toEqual(EVENT);
    expect(decodeEvent(EVENT)).toMatchObject({ wallTime: 1700000000, step: 1, summary: { value: [{ tag: "loss", simpleValue: 0.5 }] } });
  });

  it("frames empty and large payloads with a correct 64-bit length", () => {
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
    const framed = frameRecord(big);
    expect(framed.length).toBe(70_016);
    const parsed = parseRecords(framed);
    expect(parsed.end).toBe(70_016);
    expect(parsed.records).toHaveLength(1);
    // Buffer.equals: vitest's element-wise toEqual takes a second on 70 kB.
    expect(Buffer.from(parsed.records[0]!).equals(big)).toBe(true);
    expect(parseRecords(frameRecord(new Uint8Array(0)))).toEqual({ records: [new Uint8Array(0)], end: 16 });
  });

  it("lets a reader detect a flipped bit anywhere in the record", () => {
    for (let i = 0; i < RECORD.length; i++) {
      const bad = RECORD.slice();
      bad[i]! ^= 0x10;
      const parsed = parseRecords(bad);
      expect(parsed.records, `byte ${i}`).toEqual([]);
      expect(parsed.stop, `byte ${i}`).toMatch(/crc|truncated/);
    }
  });
});
