// Helpers for tests that run the CLI in-process or as a child process.
import { spawnSync } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { encodeIdx, MNIST_FILES, type MnistSplit } from "@mnist/data";
import { loadMnist } from "@mnist/data/node";
import { run } from "./run.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI's entry, dist/main.js, for tests that need what source cannot give them (a real
 * process to signal, worker threads, which run built scripts). Under turbo, "cli#test" depends on
 * the build; run alone, this brings dist/ up to date first.
 */
export function builtCli(): string {
  const cliDir = fileURLToPath(new URL("..", import.meta.url));
  if (process.env.TURBO_HASH === undefined) {
    const build = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--filter=cli...", "--output-logs=errors-only"], { cwd: cliDir, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.stdout}\n${build.stderr}`);
  }
  return join(cliDir, "dist", "main.js");
}

/** Runs the CLI in this process with captured output and a private signal source. */
export async function runCli(argv: string[], signals = new EventEmitter()): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    signals: signals as never,
    exit: (exitCode) => {
      throw new Error(`CLI asked to exit immediately with ${exitCode}`);
    },
    invocation: "mnist-rnn",
  });
  return { code, stdout, stderr };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `mnist-cli-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative paths), to check that a failed command wrote nothing. */
export async function listFiles(dir: string): Promise<string[]> {
  const exists = await stat(dir).catch(() => undefined);
  if (!exists) return [];
  return (await readdir(dir, { recursive: true })).sort();
}

/**
 * A small MNIST folder, `<root>/mnist`, made of the real files' first images, gzipped, so that
 * training and the final test evaluation take a second instead of a minute; returns its path.
 * The CLI holds out the first 5000 training images for validation, so `trainCount` counts on
 * top of those.
 */
export async function writeSmallMnist(root: string, trainCount: number, testCount: number): Promise<string> {
  const dir = join(root, "mnist");
  await mkdir(dir);
  const { train, test } = await loadMnist();
  const files: [string, MnistSplit, number][] = [
    [MNIST_FILES.trainImages, train, 5000 + trainCount],
    [MNIST_FILES.testImages, test, testCount],
  ];
  for (const [imagesName, split, count] of files) {
    const labelsName = imagesName === MNIST_FILES.trainImages ? MNIST_FILES.trainLabels : MNIST_FILES.testLabels;
    const images = encodeIdx({ dtype: "uint8", shape: [count, split.rows, split.cols], data: split.images.slice(0, count * split.rows * split.cols) });
    const labels = encodeIdx({ dtype: "uint8", shape: [count], data: split.labels.slice(0, count) });
    await writeFile(join(dir, `${imagesName}.gz`), gzipSync(images));
    await writeFile(join(dir, `${labelsName}.gz`), gzipSync(labels));
  }
  return dir;
}

/** Byte offsets of `tag` written as a protobuf string field 1 (Summary.Value.tag) in an event file. */
export function countTag(eventFile: Uint8Array, tag: string): number {
  const needle = Buffer.from([0x0a, tag.length, ...Buffer.from(tag)]);
  const haystack = Buffer.from(eventFile);
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}
