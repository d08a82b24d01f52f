import { existsSync } from "node:fs";
import { mkdtemp, open, readdir, readFile, rm, truncate } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SummaryWriteError, WriterClosedError } from "./errors.js";
import { FileSummaryWriter } from "./file-writer.js";
import { createFileWriter } from "./node.js";
import { decodeEvent, parseRecords, readEvents } from "./events.test-support.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "summary-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("createFileWriter", () => {
  it("creates logdir and names the file events.out.tfevents.<10-digit seconds>.<host>.<pid>.<counter>", async () => {
    const logdir = join(dir, "runs", "a");
    const writer = await createFileWriter(logdir, { clock: () => 1_700_000_123.9 });
    await writer.close();
    const name = basename(writer.path);
    expect(name).toMatch(new RegExp(`^events\\.out\\.tfevents\\.1700000123\\.${escape(hostname())}\\.${process.pid}\\.\\d+$`));
    expect(await readdir(logdir)).toEqual([name]);
    const suffixed = await createFileWriter(logdir, { filenameSuffix: ".v2" });
    await suffixed.close();
    expect(basename(suffixed.path)).toMatch(/^events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+\.v2$/);
  });

  it("has the file-version record on disk as soon as it resolves", async () => {
    const writer = await createFileWriter(dir);
    const events = readEvents(await readFile(writer.path));
    expect(events.map((e) => e.fileVersion)).toEqual(["brain.Event:2"]);
    await writer.close();
  });

  it("keeps two writers in one folder in separate, intact files", async () => {
    const [a, b] = await Promise.all([createFileWriter(dir), createFileWriter(dir)]);
    expect(a.path).not.toBe(b.path);
    for (let step = 0; step < 50; step++) {
      a.scalar("loss", step, step);
      b.scalar("accuracy", step / 50, step);
      if (step % 10 === 0) await Promise.all([a.flush(), b.flush()]);
    }
    await Promise.all([a.close(), b.close()]);
    expect((await readdir(dir)).sort()).toEqual([basename(a.path), basename(b.path)].sort());
    for (const [writer, tag] of [[a, "loss"], [b, "accuracy"]] as const) {
      const events = readEvents(await readFile(writer.path)).slice(1);
      expect(events.map((e) => e.summary!.value[0]!.tag)).toEqual(new Array(50).fill(tag));
      expect(events.map((e) => e.step)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
  });

  it("writes buffered records to the file when the flush timer fires", async () => {
    const writer = await createFileWriter(dir, { flushMillis: 50 });
    writer.scalar("loss", 0.75, 7);
    expect(readEvents(await readFile(writer.path))).toHaveLength(1);
    let events = readEvents(await readFile(writer.path));
    for (const started = Date.now(); events.length < 2 && Date.now() - started < 5000; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      events = readEvents(await readFile(writer.path));
    }
    expect(events[1]).toMatchObject({ step: 7, summary: { value: [{ tag: "loss", simpleValue: 0.75 }] } });
    await writer.close();
  });

  it("writes what is buffered when the process runs out of work, for scripts that forget close()", async () => {
    const writer = await createFileWriter(dir, { flushMillis: 60_000 });
    writer.scalar("loss", 0.5, 3);
    process.emit("beforeExit", 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readEvents(await readFile(writer.path)).map((e) => e.step)).toEqual([0, 3]);
    // Flushed, not closed: the writer still takes records.
    writer.scalar("loss", 0.25, 4);
    await writer.close();
    expect(readEvents(await readFile(writer.path)).map((e) => e.step)).toEqual([0, 3, 4]);
  });

  it("close writes everything and refuses later writes", async () => {
    const writer = await createFileWriter(dir, { flushMillis: 60_000 });
    writer.scalar("loss", 1, 1);
    writer.histogram("w", [0.1, -0.2, 0.3], 1);
    writer.image("x", { width: 2, height: 2, channels: 1, pixels: new Uint8Array([0, 85, 170, 255]) }, 1);
    writer.text("notes", "**bold**", 1);
    await writer.close();
    const events = readEvents(await readFile(writer.path));
    expect(events.slice(1).map((e) => e.summary!.value[0]!.tag)).toEqual(["loss", "w", "x", "notes"]);
    expect(() => writer.scalar("loss", 2, 2)).toThrow(WriterClosedError);
    await writer.close();
  });

  it("leaves a file that, cut at any byte, still yields every complete record before the cut", async () => {
    const writer = await createFileWriter(dir, { flushMillis: 0 });
    writer.scalar("loss", 2.5, 1);
    writer.histogram("w", [1, 2, 3, -4], 1);
    writer.text("notes", "cut me", 1);
    writer.scalar("loss", 1.5, 2);
    await writer.close();
    const bytes = await readFile(writer.path);
    const whole = parseRecords(bytes);
    expect(whole.stop).toBeUndefined();
    const ends: number[] = [];
    whole.records.reduce((offset, r) => (ends.push(offset + r.length + 16), offset + r.length + 16), 0);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parsed = parseRecords(bytes.subarray(0, cut));
      const complete = ends.filter((end) => end <= cut).length;
      expect(parsed.records.length, `cut at ${cut}`).toBe(complete);
      expect(parsed.stop, `cut at ${cut}`).toBe(ends.includes(cut) || cut === 0 ? undefined : "truncated");
    }
    // The same, through the file system: a truncated file decodes to its complete events.
    await truncate(writer.path, ends[2]! + 5);
    const parsed = parseRecords(await readFile(writer.path));
    expect(parsed.records.map(decodeEvent).map((e) => e.summary?.value[0]?.tag ?? e.fileVersion)).toEqual(["brain.Event:2", "loss", "w"]);
  });

  // /dev/full fails every write with ENOSPC: a real disk-full, without filling a disk.
  it.runIf(existsSync("/dev/full"))("reports a full disk with the path and stops writing", async () => {
    const file = await open("/dev/full", "w");
    const writer = new FileSummaryWriter("/dev/full", file, { flushMillis: 60_000 });
    const error = await writer.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SummaryWriteError);
    expect((error as Error).message).toMatch(/\/dev\/full: ENOSPC/);
    expect(() => writer.scalar("loss", 1, 1)).toThrow(SummaryWriteError);
    await expect(writer.close()).rejects.toBeInstanceOf(SummaryWriteError);
  });
});
