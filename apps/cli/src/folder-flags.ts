import { constants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { MNIST_FILES } from "@mnist/data";
import { CheckpointError } from "@mnist/train";
import { latestCheckpoint } from "@mnist/train/node";
import { UsageError } from "./errors.js";

/** `path` must be an existing folder. */
export async function requireFolder(flag: string, path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(flag, `folder ${path} does not exist`);
  if (!info.isDirectory()) throw new UsageError(flag, `${path} is a file, expected a folder`);
}

/** `--data DIR` must hold the four MNIST IDX files, each plain or gzipped. */
export async function requireMnistFolder(flag: string, dir: string): Promise<void> {
  await requireFolder(flag, dir);
  const missing: string[] = [];
  for (const name of Object.values(MNIST_FILES)) {
    if (!(await isFile(join(dir, name))) && !(await isFile(join(dir, `${name}.gz`)))) missing.push(name);
  }
  if (missing.length > 0) throw new UsageError(flag, `${dir} lacks ${missing.join(", ")} (plain or .gz)`);
}

/** The model a `--model DIR` names, and a note to print when that choice needs saying. */
export interface ModelFolder {
  /** The folder holding model.json. */
  folder: string;
  /** One line saying which weights are used and why, when DIR holds more than one model. */
  note?: string;
}

/**
 * The folder holding model.json for `--model DIR`: DIR itself when it holds a saved model, or the
 * latest checkpoint's model when DIR is a training checkpoint folder (an interrupted
 * `train --save DIR` leaves one). When DIR holds both and the checkpoint is the newer (a resumed
 * run was interrupted after an earlier part had finished), the checkpoint's weights are the
 * furthest trained: they are used, and the note says so.
 */
export async function resolveModelFolder(flag: string, dir: string): Promise<ModelFolder> {
  await requireFolder(flag, dir);
  const model = join(dir, "model.json");
  const saved = await stat(model).catch(() => undefined);
  if (!(await isFile(join(dir, "latest.json")))) {
    if (saved?.isFile()) return { folder: dir };
    throw new UsageError(flag, `${dir} holds neither model.json nor a training checkpoint (latest.json); pass the folder given to train --save`);
  }
  let latest: Awaited<ReturnType<typeof latestCheckpoint>>;
  try {
    latest = await latestCheckpoint(dir);
    if (!(await isFile(join(latest.modelFolder, "model.json")))) throw new Error(`its model folder ${latest.modelFolder} has no model.json`);
  } catch (error) {
    // A saved final model stands on its own; only without one does a damaged checkpoint matter.
    if (saved?.isFile()) return { folder: dir };
    const problem = error instanceof CheckpointError ? `${error.path}: expected ${error.expected}, found ${error.actual}` : error instanceof Error ? error.message : String(error);
    throw new UsageError(flag, `${dir} holds a training checkpoint that cannot be read: ${problem}`);
  }
  if (saved?.isFile() && saved.mtime >= latest.written) return { folder: dir };
  const note = saved?.isFile()
    ? `${flag} ${dir}: using the checkpoint of step ${latest.step}, newer than ${model} (a resumed run stopped before its end); train --resume ${dir} continues it`
    : undefined;
  return note === undefined ? { folder: latest.modelFolder } : { folder: latest.modelFolder, note };
}

/** `--resume DIR` must be a checkpoint folder written by train. */
export async function requireCheckpoint(flag: string, dir: string): Promise<void> {
  await requireFolder(flag, dir);
  if (!(await isFile(join(dir, "latest.json")))) {
    throw new UsageError(flag, `${dir} is not a training checkpoint (no latest.json); pass the folder given to train --save`);
  }
}

/**
 * `path` must be a folder we can create or write into; with `mustBeEmpty`, an existing
 * non-empty folder is refused unless `force` (the --force flag) is set.
 */
export async function requireWritableFolder(
  flag: string,
  path: string,
  options: { mustBeEmpty?: boolean; force?: boolean } = {},
): Promise<void> {
  const target = resolve(path);
  const info = await stat(target).catch(() => undefined);
  if (info) {
    if (!info.isDirectory()) throw new UsageError(flag, `${path} is a file, expected a folder`);
    if (!(await isWritable(target))) throw new UsageError(flag, `folder ${path} is not writable`);
    if (options.mustBeEmpty && !options.force && (await readdir(target)).length > 0) {
      throw new UsageError(flag, `folder ${path} is not empty; pass --force to overwrite it or choose another folder`);
    }
    return;
  }
  // Nothing is created before the work starts; check that the nearest existing ancestor lets us.
  let ancestor = dirname(target);
  for (;;) {
    const ancestorInfo = await stat(ancestor).catch(() => undefined);
    if (ancestorInfo) {
      if (!ancestorInfo.isDirectory()) throw new UsageError(flag, `cannot create ${path}: ${ancestor} is a file`);
      if (!(await isWritable(ancestor))) throw new UsageError(flag, `cannot create ${path}: ${ancestor} is not writable`);
      return;
    }
    const parent = dirname(ancestor);
    if (parent === ancestor) throw new UsageError(flag, `cannot create ${path}: no existing parent folder`);
    ancestor = parent;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function isWritable(path: string): Promise<boolean> {
  return access(path, constants.W_OK).then(
    () => true,
    () => false,
  );
}
