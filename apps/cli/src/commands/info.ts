import * as tf from "@tensorflow/tfjs-core";
import { defaultMnistDir, loadMnist } from "@mnist/data/node";
import { selectBackend } from "../backend.js";
import type { CommonOptions } from "../options.js";
import { requireMnistFolder } from "../paths.js";
import { createReporter, reportMode } from "../reporter.js";
import type { CliIo } from "../run.js";
import { cliVersion } from "../version.js";

export async function infoCommand(options: CommonOptions, io: CliIo): Promise<number> {
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
  try {
    const mnist = await loadMnist(options.data);
    const { train, test } = mnist;
    reporter.event(
      "data",
      `Data: ${dir ?? "(built in)"}: ${train.count} training and ${test.count} test images of ${train.rows}x${train.cols}`,
      { dir, found: true, train: train.count, test: test.count, rows: train.rows, cols: train.cols },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reporter.event("data", `Data: not found (${message})`, { dir, found: false, message });
  }
  return 0;
}
