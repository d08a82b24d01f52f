// A project with @mnist/summary and nothing else (no TensorFlow.js) writes an event file.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SummaryWriter, maskedCrc32c } from "@mnist/summary";
import { createFileWriter } from "@mnist/summary/node";

const logdir = await mkdtemp(join(tmpdir(), "summary-consumer-"));
try {
  const writer = await createFileWriter(logdir);
  writer.scalar("train/loss", 0.5, 1);
  writer.histogram("weights", Float32Array.from([0.1, -0.2, 0.3]), 1);
  writer.text("notes", "**hello**", 1);
  await writer.close();

  // TFRecord framing: [u64 length][masked crc of length][data][masked crc of data].
  const bytes = await readFile(writer.path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  assert.equal(view.getUint32(8, true), maskedCrc32c(bytes.subarray(0, 8)));
  assert.equal(view.getUint32(12 + length, true), maskedCrc32c(bytes.subarray(12, 12 + length)));
  assert.ok(Buffer.from(bytes.subarray(12, 12 + length)).includes("brain.Event:2"));
  assert.ok(bytes.length > 16 + length, "summaries follow the file-version record");

  const chunks = [];
  const inMemory = new SummaryWriter((chunk) => void chunks.push(chunk));
  inMemory.scalar("x", 1, 0);
  await inMemory.close();
  assert.ok(chunks.length > 0);
  console.log(`summary-only ESM: ${bytes.length} bytes in ${writer.path}`);
} finally {
  await rm(logdir, { recursive: true, force: true });
}
