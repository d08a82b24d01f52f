import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BatcherState } from "@mnist/data";
import { loadModel, saveModel } from "@mnist/rnn/node";
import type { AdamState } from "./adam.js";
import type { TrainConfig } from "./config.js";
import { CheckpointError } from "./errors.js";
import type { Checkpoint, CheckpointWriter, EngineRecord, RunSchedule, TrainerState, ValidationRecord } from "./trainer.js";

/**
 * Checkpoint folder layout:
 *   <dir>/latest.json          {"folder": "step-000780-…"}, replaced atomically
 *   <dir>/step-000780-…/model/  the model, loadable with loadModel from @mnist/rnn/node
 *   <dir>/step-000780-…/best/   the best validated weights as a model, when the trainer kept some
 *   <dir>/step-000780-…/optimizer.json + optimizer.bin   Adam moments and beta powers
 *   <dir>/step-000780-…/trainer.json   step, config, data position, best validation, engine, schedule
 * A new checkpoint is written whole into a temporary folder, renamed into
 * place, and only then does latest.json point at it; the previous one is
 * deleted last, so a crash at any moment leaves a complete checkpoint.
 */
const POINTER = "latest.json";
const FORMAT = "mnist-rnn/train-checkpoint";

/** trainer.json */
interface TrainerFile {
  format: typeof FORMAT;
  version: 1;
  /** Steps completed. */
  step: number;
  config: TrainConfig;
  batcher: BatcherState;
  /** Size of the training split the run used. */
  trainCount: number;
  /** The validation of the weights in best/, when the trainer kept some. */
  best?: ValidationRecord;
  /** Backend and threads the steps ran on. */
  engine: EngineRecord;
  /** When the run checkpointed and validated, if written by run(). */
  schedule?: RunSchedule;
}

interface OptimizerFile {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
  /** Moments in optimizer.bin order: for each entry, m then v, float32 little-endian. */
  moments: { name: string; shape: number[] }[];
}

/** Writes checkpoints of a run into the folder `dir` (RunOptions.checkpoint), keeping only the latest. */
export function checkpointWriter(dir: string): CheckpointWriter {
  return { dir, write: (checkpoint) => writeCheckpoint(dir, checkpoint) };
}

async function writeCheckpoint(dir: string, { model, config, state, engine, schedule }: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  const unique = `${String(state.step).padStart(6, "0")}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const temporary = join(dir, `.tmp-step-${unique}`);
  const folderName = `step-${unique}`;
  try {
    await mkdir(temporary);
    await saveModel(model, join(temporary, "model"));
    if (state.best !== undefined) await saveModel(state.best.model, join(temporary, "best"));
    const { json, bin } = encodeOptimizer(state.adam);
    await writeFile(join(temporary, "optimizer.bin"), bin);
    await writeFile(join(temporary, "optimizer.json"), JSON.stringify(json));
    const file: TrainerFile = { format: FORMAT, version: 1, step: state.step, config, batcher: state.batcher, trainCount: state.trainCount, engine };
    if (state.best !== undefined) file.best = state.best.record;
    if (schedule !== undefined) file.schedule = schedule;
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
}

/** The complete checkpoint folder that `dir`'s latest.json points at. */
async function latestCheckpointFolder(dir: string): Promise<string> {
  const pointerPath = join(dir, POINTER);
  const pointer = await readJson(pointerPath, `${POINTER} naming the latest checkpoint`);
  const folderName = (pointer as { folder?: unknown }).folder;
  if (typeof folderName !== "string" || !/^step-[^/\\]+$/.test(folderName)) {
    throw new CheckpointError(pointerPath, 'a "folder" field naming a step-… folder', JSON.stringify(pointer));
  }
  const folder = join(dir, folderName);
  if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
    throw new CheckpointError(
      pointerPath,
      `the checkpoint folder it names, ${folder}`,
      "no such folder",
      "the folder was altered after training wrote it; a run still writing there may have been copied mid-write",
    );
  }
  return folder;
}

/** The model folder (model.json + weights.bin) of the latest checkpoint in `dir`; Node only. */
export async function checkpointModelFolder(dir: string): Promise<string> {
  return join(await latestCheckpointFolder(dir), "model");
}

/** The latest checkpoint in `dir` without loading it: its model folder, step and when it was written. */
export async function latestCheckpoint(dir: string): Promise<{ modelFolder: string; step: number; written: Date }> {
  const folder = await latestCheckpointFolder(dir);
  const trainerPath = join(folder, "trainer.json");
  const { step } = (await readJson(trainerPath, "trainer.json")) as Partial<TrainerFile>;
  if (!Number.isSafeInteger(step)) throw new CheckpointError(trainerPath, "a step count", String(step));
  return { modelFolder: join(folder, "model"), step: step as number, written: (await stat(trainerPath)).mtime };
}

/**
 * The latest checkpoint in `dir` (written by checkpointWriter(dir)), with its model loaded:
 * pass model, config and state to new Trainer(model, train, config, { restored: state }) to
 * continue the run. The caller owns the models (the trainer takes over state.best's).
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint & { folder: string }> {
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
  const adam = decodeOptimizer(optimizer, bin, binPath);
  const { step, config, batcher, trainCount, best, engine, schedule } = trainer as TrainerFile;
  const model = await loadModel(join(folder, "model"));
  try {
    for (const [name, variable] of Object.entries(model.variables)) {
      const moments = adam.moments[name];
      if (moments === undefined || moments.shape.join(",") !== variable.shape.join(",")) {
        throw new CheckpointError(
          optimizerPath,
          `Adam moments of shape [${variable.shape}] for the model's "${name}"`,
          moments === undefined ? "none" : `[${moments.shape}]`,
          "resume from a checkpoint folder written by training, unaltered",
        );
      }
    }
    const state: TrainerState = { step, trainCount, batcher, adam };
    // A run that kept no best weights has no "best".
    if (best !== undefined) state.best = { record: best, model: await loadModel(join(folder, "best")) };
    return { folder, model, config, state, engine, ...(schedule === undefined ? {} : { schedule }) };
  } catch (error) {
    model.dispose();
    throw error;
  }
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
