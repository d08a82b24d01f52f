import type { BatcherState } from "@mnist/data";
import type { SequenceClassifier } from "@mnist/rnn";
import type { AdamState } from "./adam.js";
import type { TrainConfig } from "./config.js";
import { CheckpointError } from "./errors.js";
import type { ValidationRecord } from "./trainer.js";

/**
 * Checkpoint folder layout:
 *   <dir>/latest.json          {"folder": "step-000780-…"}, replaced atomically
 *   <dir>/step-000780-…/model/  the model, loadable with SequenceClassifier.load
 *   <dir>/step-000780-…/best/   the best validated weights as a model, when the trainer kept some
 *   <dir>/step-000780-…/optimizer.json + optimizer.bin   Adam moments and beta powers
 *   <dir>/step-000780-…/trainer.json   step, config, data position, best validation
 * A new checkpoint is written whole into a temporary folder, renamed into
 * place, and only then does latest.json point at it; the previous one is
 * deleted last, so a crash at any moment leaves a complete checkpoint.
 *
 * fs and path are imported on first use, not at load time, so that the
 * Trainer (which imports this module) also bundles for a browser, where
 * only checkpoints are unavailable.
 */
const POINTER = "latest.json";
const FORMAT = "mnist-rnn/train-checkpoint";

/** What the trainer needs besides the model to continue a run. */
export interface TrainerState {
  /** Steps completed. */
  step: number;
  config: TrainConfig;
  batcher: BatcherState;
  /** Size of the training split the run used; resuming on another split would not be the same run. */
  trainCount: number;
  /** The validation of the weights in best/, when the trainer kept some. */
  best?: ValidationRecord;
}

interface TrainerFile extends TrainerState {
  format: typeof FORMAT;
  version: 1;
}

interface OptimizerFile {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
  /** Moments in optimizer.bin order: for each entry, m then v, float32 little-endian. */
  moments: { name: string; shape: number[] }[];
}

export interface Checkpoint {
  /** The complete checkpoint folder that latest.json points at. */
  folder: string;
  /** Its model subfolder, for SequenceClassifier.load. */
  modelFolder: string;
  trainer: TrainerState;
  adam: AdamState;
  /** The kept best weights' validation and model folder, if the trainer kept some. */
  best?: { record: ValidationRecord; modelFolder: string };
}

export async function writeCheckpoint(
  dir: string,
  model: SequenceClassifier,
  trainer: TrainerState,
  adam: AdamState,
  best?: SequenceClassifier,
): Promise<string> {
  const { mkdir, readdir, rename, rm, writeFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  await mkdir(dir, { recursive: true });
  const unique = `${String(trainer.step).padStart(6, "0")}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const temporary = join(dir, `.tmp-step-${unique}`);
  const folderName = `step-${unique}`;
  try {
    await mkdir(temporary);
    await model.save(join(temporary, "model"));
    if (best !== undefined) await best.save(join(temporary, "best"));
    const { json, bin } = encodeOptimizer(adam);
    await writeFile(join(temporary, "optimizer.bin"), bin);
    await writeFile(join(temporary, "optimizer.json"), JSON.stringify(json));
    const file: TrainerFile = { format: FORMAT, version: 1, ...trainer };
    await writeFile(join(temporary, "trainer.json"), JSON.stringify(file, null, 2));
    await rename(temporary, join(dir, folderName));
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  const pointerTemporary = join(dir, `.tmp-${POINTER}-${unique}`);
  await writeFile(pointerTemporary, JSON.stringify({ folder: folderName }));
  await rename(pointerTemporary, join(dir, POINTER));
  for (const entry of await readdir(dir)) {
    const stale = (entry.startsWith("step-") && entry !== folderName) || entry.startsWith(".tmp-");
    if (stale) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return join(dir, folderName);
}

/** The complete checkpoint folder that `dir`'s latest.json points at. */
async function latestCheckpointFolder(dir: string): Promise<string> {
  const { join } = await import("node:path");
  const pointerPath = join(dir, POINTER);
  const pointer = await readJson(pointerPath, `${POINTER} naming the latest checkpoint`);
  const folderName = (pointer as { folder?: unknown }).folder;
  if (typeof folderName !== "string" || !/^step-[^/\\]+$/.test(folderName)) {
    throw new CheckpointError(pointerPath, 'a "folder" field naming a step-… folder', JSON.stringify(pointer));
  }
  return join(dir, folderName);
}

/** The model folder (model.json + weights.bin) of the latest checkpoint in `dir`; Node only. */
export async function checkpointModelFolder(dir: string): Promise<string> {
  const { join } = await import("node:path");
  return join(await latestCheckpointFolder(dir), "model");
}

export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const folder = await latestCheckpointFolder(dir);
  const trainerPath = join(folder, "trainer.json");
  const trainer = (await readJson(trainerPath, "trainer.json")) as Partial<TrainerFile>;
  if (trainer.format !== FORMAT || trainer.version !== 1) {
    throw new CheckpointError(trainerPath, `format "${FORMAT}" version 1`, `format ${String(trainer.format)} version ${String(trainer.version)}`);
  }
  const optimizerPath = join(folder, "optimizer.json");
  const optimizer = (await readJson(optimizerPath, "optimizer.json")) as OptimizerFile;
  const binPath = join(folder, "optimizer.bin");
  const bin = await readFile(binPath).catch(() => {
    throw new CheckpointError(binPath, "optimizer.bin", "no such file");
  });
  const { step, config, batcher, trainCount, best } = trainer as TrainerFile;
  const checkpoint: Checkpoint = {
    folder,
    modelFolder: join(folder, "model"),
    trainer: { step, config, batcher, trainCount },
    adam: decodeOptimizer(optimizer, bin, binPath),
  };
  // Checkpoints written before best weights were kept have no "best": they resume without one.
  if (best !== undefined) {
    checkpoint.trainer.best = best;
    checkpoint.best = { record: best, modelFolder: join(folder, "best") };
  }
  return checkpoint;
}

function encodeOptimizer(adam: AdamState): { json: OptimizerFile; bin: Uint8Array } {
  const entries = Object.entries(adam.moments);
  const total = entries.reduce((sum, [, { m }]) => sum + 2 * m.length, 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const [, { m, v }] of entries) {
    values.set(m, offset);
    values.set(v, offset + m.length);
    offset += 2 * m.length;
  }
  const json: OptimizerFile = {
    iterations: adam.iterations,
    accBeta1: adam.accBeta1,
    accBeta2: adam.accBeta2,
    moments: entries.map(([name, { shape }]) => ({ name, shape })),
  };
  return { json, bin: littleEndianBytes(values) };
}

function decodeOptimizer(json: OptimizerFile, bin: Uint8Array, binPath: string): AdamState {
  const sizes = json.moments.map(({ shape }) => shape.reduce((product, n) => product * n, 1));
  const expectedBytes = sizes.reduce((sum, size) => sum + 8 * size, 0);
  if (bin.byteLength !== expectedBytes) {
    throw new CheckpointError(binPath, `${expectedBytes} bytes for the moments in optimizer.json`, `${bin.byteLength} bytes`);
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const readFloats = (start: number, count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * (start + i), true);
    return out;
  };
  const moments: AdamState["moments"] = {};
  let offset = 0;
  json.moments.forEach(({ name, shape }, k) => {
    const size = sizes[k] ?? 0;
    moments[name] = { shape, m: readFloats(offset, size), v: readFloats(offset + size, size) };
    offset += 2 * size;
  });
  return { iterations: json.iterations, accBeta1: json.accBeta1, accBeta2: json.accBeta2, moments };
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return bytes;
}

async function readJson(path: string, what: string): Promise<unknown> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CheckpointError(path, what, "no such file");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CheckpointError(path, `${what} as JSON`, `unparseable text (${text.length} characters)`);
  }
}
