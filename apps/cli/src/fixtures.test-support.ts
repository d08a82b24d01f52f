import { fileURLToPath } from "node:url";

/**
 * A small model (LSTM, 32 hidden units, 96.5% test accuracy) trained by this CLI, so tests that need
 * a model that reads digits well do not spend a minute training one. Regenerate with
 * `node dist/main.js train --hidden 32 --lr 0.005 --iters 128001 --backend wasm --save test/fixtures/lstm-h32 --force`.
 */
export const fixtureModel = fileURLToPath(new URL("../test/fixtures/lstm-h32", import.meta.url));
