import { constants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { MNIST_FILES } from "@mnist/data";
import { checkpointModelFolder } from "@mnist/train/node";
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

/**
 * The folder holding model.json for `--model DIR`: DIR itself when it holds a saved model,
 * or the latest checkpoint's model when DIR is a training checkpoint folder (an interrupted
 * `train --save DIR` leaves one).
 */
export async function resolveModelFolder(flag: string, dir: string): Promise<string> {
  await requireFolder(flag, dir);
  if (await isFile(join(dir, "model.json"))) return dir;
  const folder = await checkpointModelFolder(dir).catch(() => undefined);
  if (folder && (await isFile(join(folder, "model.json")))) return folder;
  throw new UsageError(flag, `${dir} holds neither model.json nor a training checkpoint (latest.json); pass the folder given to train --save`);
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
