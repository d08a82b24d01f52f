import * as tf from "@tensorflow/tfjs-core";
import { defaultMnistDir, loadMnist, MnistNotFoundError } from "@mnist/data/node";
import { selectBackend } from "../backend.js";
import { decodeLimitsOf, type CommonOptions, type InputLimitOptions } from "../options.js";
import { requireMnistFolder } from "../folder-flags.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";
import { cliVersion } from "../version.js";

/** Exits 0 when the data loads or there is none to load, and 2 (one line naming the file) when a data file is damaged, as for any bad input. */
export async function infoCommand(options: CommonOptions & InputLimitOptions, io: CliIo): Promise<number> {
  if (options.data) await requireMnistFolder("--data", options.data);
  const reporter = createReporter(io.stdout, reportMode(io.stdout, options.json));
  const backend = await selectBackend(options.backend);
  const versions = { cli: cliVersion(), "tfjs-core": tf.version_core, node: process.versions.node };
  const skipped = backend.skipped.map((s) => `\n  ${s.name} unavailable: ${s.reason}`).join("");
  reporter.event("backend", `Backend: ${backend.name} (asked for ${options.backend})${skipped}`, {
    backend: backend.name,
    requested: options.backend,
    skipped: backend.skipped,
  });
  reporter.event("versions", `Versions: ${Object.entries(versions).map(([name, v]) => `${name} ${v}`).join(", ")}`, versions);

  const dir = options.data ?? defaultMnistDir();
  let mnist;
  try {
    mnist = await loadMnist(dir, decodeLimitsOf(options));
  } catch (error) {
    if (!(error instanceof MnistNotFoundError)) throw error;
    reporter.event("data", `Data: not found (${error.message})`, { dir, found: false, message: error.message });
    return 0;
  }
  const { train, test } = mnist;
  reporter.event(
    "data",
    `Data: ${dir ?? "(built in)"}: ${train.count} training and ${test.count} test images of ${train.rows}x${train.cols}`,
    { dir, found: true, train: train.count, test: test.count, rows: train.rows, cols: train.cols },
  );
  return 0;
}
