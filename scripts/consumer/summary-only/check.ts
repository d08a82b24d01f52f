// The typed version of check.mjs: the declarations must resolve and be precise.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SummaryWriter, SummaryValueError, type SummarySink } from "@mnist/summary";
import { createFileWriter, type FileSummaryWriter } from "@mnist/summary/node";

const logdir = await mkdtemp(join(tmpdir(), "summary-consumer-"));
try {
  const writer: FileSummaryWriter = await createFileWriter(logdir, { flushMillis: 1000 });
  writer.scalar("train/loss", 0.5, 1);
  writer.image("digit", { width: 2, height: 1, channels: 1, pixels: Uint8Array.from([0, 255]) }, 1);
  assert.throws(() => writer.scalar("train/loss", Number.NaN, Number.NaN), SummaryValueError);
  await writer.close();
  const path: string = writer.path;
  assert.ok((await readFile(path)).length > 0);

  const sink: SummarySink = () => {};
  const inMemory = new SummaryWriter(sink);
  // @ts-expect-error channels is 1 | 3 | 4: the types are real, not any
  const typeCheckOnly = () => inMemory.image("x", { width: 1, height: 1, channels: 2, pixels: new Uint8Array(2) }, 0);
  void typeCheckOnly;
  await inMemory.close();
  console.log(`summary-only TypeScript: wrote ${path}`);
} finally {
  await rm(logdir, { recursive: true, force: true });
}
