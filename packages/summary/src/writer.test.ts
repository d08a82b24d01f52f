import { decode } from "fast-png";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SummaryValueError, SummaryWriteError, WriterClosedError } from "./errors.js";
import { SummaryWriter } from "./writer.js";
import { joinChunks, parseRecords, readEvents } from "./events.test-support.js";

function memoryWriter(options: ConstructorParameters<typeof SummaryWriter>[1] = {}) {
  const chunks: Uint8Array[] = [];
  let t = 1_700_000_000;
  const writer = new SummaryWriter((chunk) => void chunks.push(chunk), { clock: () => (t += 0.25), ...options });
  return { writer, chunks };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SummaryWriter", () => {
  it("starts with the file-version event", async () => {
    const { writer, chunks } = memoryWriter();
    await writer.close();
    expect(readEvents(joinChunks(chunks))).toEqual([{ wallTime: 1_700_000_000.25, step: 0, fileVersion: "brain.Event:2" }]);
  });

  it("round-trips scalars: tags, steps, float32 values, wall times", async () => {
    const { writer, chunks } = memoryWriter();
    const written: [string, number, number][] = [];
    for (let step = 0; step < 20; step++) {
      for (const tag of ["train/loss", "train/accuracy"]) {
        const value = tag.endsWith("loss") ? 2.3 * Math.exp(-step / 5) : step / 20;
        writer.scalar(tag, value, step * 128);
        written.push([tag, step * 128, value]);
      }
    }
    writer.scalar("big", 1e39, 2 ** 40);
    writer.scalar("nan", NaN, -3);
    await writer.close();
    const events = readEvents(joinChunks(chunks)).slice(1);
    const read = events.map((e) => [e.summary!.value[0]!.tag, e.step, e.summary!.value[0]!.simpleValue]);
    expect(read.slice(0, 40)).toEqual(written.map(([tag, step, value]) => [tag, step, Math.fround(value)]));
    expect(read.slice(40)).toEqual([["big", 2 ** 40, Infinity], ["nan", -3, NaN]]);
    expect(events.map((e) => e.wallTime)).toEqual(events.map((_, i) => 1_700_000_000.5 + i * 0.25));
    expect(events.every((e) => e.summary!.value.length === 1)).toBe(true);
  });

  it("puts plugin metadata on the first value of each tag only", async () => {
    const { writer, chunks } = memoryWriter();
    writer.scalar("a", 1, 0);
    writer.histogram("h", [1, 2], 0);
    writer.scalar("a", 2, 1);
    writer.image("i", { width: 1, height: 1, channels: 1, pixels: new Uint8Array(1) }, 0);
    writer.text("t", "x", 0);
    writer.histogram("h", [3], 1);
    await writer.close();
    const values = readEvents(joinChunks(chunks)).slice(1).map((e) => e.summary!.value[0]!);
    expect(values.map((v) => [v.tag, v.metadata?.pluginData?.pluginName ?? null])).toEqual([
      ["a", "scalars"],
      ["h", "histograms"],
      ["a", null],
      ["i", "images"],
      ["t", "text"],
      ["h", null],
    ]);
    // Only the tensor-valued text summary declares a data class (2 = DATA_CLASS_TENSOR); the others use classic fields.
    expect(values.map((v) => v.metadata?.dataClass ?? null)).toEqual([0, 0, null, 0, 2, null]);
  });

  it("writes histograms as HistogramProto that accounts for every finite value", async () => {
    const { writer, chunks } = memoryWriter();
    const weights = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37) * 0.1);
    writer.histogram("lstm/kernel", weights, 300);
    await writer.close();
    const [event] = readEvents(joinChunks(chunks)).slice(1);
    const histo = event!.summary!.value[0]!.histo!;
    expect(event!.step).toBe(300);
    expect(histo.num).toBe(4096);
    expect(histo.bucket.reduce((a, c) => a + c, 0)).toBe(4096);
    expect(histo.bucket.length).toBe(histo.bucketLimit.length);
    expect(histo.min).toBe(Math.min(...weights));
    expect(histo.max).toBe(Math.max(...weights));
    expect(histo.sum).toBeCloseTo(weights.reduce((a, v) => a + v, 0), 9);
    expect(histo.bucketLimit.at(-1)).toBeGreaterThanOrEqual(histo.max);
  });

  it("writes images as Summary.Image with a PNG of the pixels", async () => {
    const { writer, chunks } = memoryWriter();
    const pixels = Uint8Array.from({ length: 6 * 4 * 3 }, (_, i) => (i * 29) & 0xff);
    writer.image("samples", { width: 6, height: 4, channels: 3, pixels }, 5);
    await writer.close();
    const image = readEvents(joinChunks(chunks))[1]!.summary!.value[0]!.image!;
    expect({ width: image.width, height: image.height, colorspace: image.colorspace }).toEqual({ width: 6, height: 4, colorspace: 3 });
    const png = decode(image.encodedImageString);
    expect([png.width, png.height, png.channels]).toEqual([6, 4, 3]);
    expect(new Uint8Array(png.data)).toEqual(pixels);
  });

  it("writes text as a rank-0 DT_STRING tensor holding the UTF-8 markdown", async () => {
    const { writer, chunks } = memoryWriter();
    const markdown = "| lr | 0.001 |\n| --- | --- |\n\nλ → ✓";
    writer.text("hparams", markdown, 0);
    await writer.close();
    const tensor = readEvents(joinChunks(chunks))[1]!.summary!.value[0]!.tensor!;
    expect(tensor.dtype).toBe(7);
    expect(tensor.tensorShape?.dim ?? []).toEqual([]);
    expect(tensor.stringVal.map((b) => new TextDecoder().decode(b))).toEqual([markdown]);
  });

  it("holds records until the timer fires, then hands them over in one chunk", async () => {
    vi.useFakeTimers();
    const { writer, chunks } = memoryWriter({ flushMillis: 1000 });
    writer.scalar("loss", 1, 1);
    await vi.advanceTimersByTimeAsync(999);
    expect(chunks).toEqual([]);
    writer.scalar("loss", 2, 2);
    await vi.advanceTimersByTimeAsync(1);
    expect(chunks).toHaveLength(1);
    expect(readEvents(chunks[0]!).map((e) => e.step)).toEqual([0, 1, 2]);
    // Nothing new, nothing written; the next record starts a new interval.
    await vi.advanceTimersByTimeAsync(5000);
    expect(chunks).toHaveLength(1);
    writer.scalar("loss", 3, 3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunks).toHaveLength(2);
    await writer.close();
  });

  it("hands the buffer over early once it holds maxBufferBytes", async () => {
    const { writer, chunks } = memoryWriter({ flushMillis: 60_000, maxBufferBytes: 200 });
    for (let step = 1; step <= 20; step++) writer.scalar("loss", step, step);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(parseRecords(chunk).stop).toBeUndefined();
    await writer.close();
    expect(readEvents(joinChunks(chunks)).slice(1).map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("with flushMillis 0 hands every record over on its own", async () => {
    const { writer, chunks } = memoryWriter({ flushMillis: 0 });
    writer.scalar("loss", 1, 1);
    writer.scalar("loss", 2, 2);
    await writer.flush();
    expect(chunks.map((c) => parseRecords(c).records.length)).toEqual([1, 1, 1]);
  });

  it("calls a slow sink one chunk at a time, in order, each chunk whole records", async () => {
    const chunks: Uint8Array[] = [];
    let active = 0;
    let maxActive = 0;
    const writer = new SummaryWriter(
      async (chunk) => {
        maxActive = Math.max(maxActive, ++active);
        await new Promise((resolve) => setTimeout(resolve, 2));
        chunks.push(chunk);
        active--;
      },
      { flushMillis: 0 },
    );
    for (let step = 1; step <= 30; step++) writer.scalar("loss", step, step);
    await writer.close();
    expect(maxActive).toBe(1);
    expect(chunks.every((c) => parseRecords(c).stop === undefined)).toBe(true);
    expect(readEvents(joinChunks(chunks)).slice(1).map((e) => e.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("refuses writes after close, and close is idempotent", async () => {
    const { writer, chunks } = memoryWriter();
    writer.scalar("loss", 1, 1);
    const closed = writer.close();
    expect(() => writer.scalar("loss", 2, 2)).toThrow(WriterClosedError);
    await closed;
    await writer.close();
    expect(readEvents(joinChunks(chunks))).toHaveLength(2);
  });

  it("stops for good when the sink fails, reporting it on flush and on the next write", async () => {
    const delivered: Uint8Array[] = [];
    let fail = false;
    const writer = new SummaryWriter(
      (chunk) => {
        if (fail) throw new Error("disk full");
        delivered.push(chunk);
      },
      { flushMillis: 60_000 },
    );
    await writer.flush();
    fail = true;
    writer.scalar("loss", 1, 1);
    const error = await writer.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SummaryWriteError);
    expect((error as Error).message).toMatch(/disk full/);
    expect(() => writer.scalar("loss", 2, 2)).toThrow(SummaryWriteError);
    fail = false;
    await expect(writer.close()).rejects.toBeInstanceOf(SummaryWriteError);
    expect(delivered).toHaveLength(1);
  });

  it("rejects bad tags, steps, values and a tag changing kind, naming what was wrong", () => {
    const { writer } = memoryWriter();
    expect(() => writer.scalar("", 1, 0)).toThrow(/tag: expected a non-empty string/);
    expect(() => writer.scalar("loss", 1, 1.5)).toThrow(/step: expected a safe integer, found 1.5/);
    expect(() => writer.scalar("loss", "1" as unknown as number, 1)).toThrow(SummaryValueError);
    expect(() => writer.text("notes", 5 as unknown as string, 1)).toThrow(SummaryValueError);
    writer.scalar("loss", 1, 1);
    expect(() => writer.histogram("loss", [1], 2)).toThrow(/kind: expected scalar, found histogram/);
  });
});
