import { describe, expect, it } from "vitest";
import { DEFAULT_MODEL_CONFIG, trainingBytes } from "@mnist/rnn";
import { checkTrainingMemory, WASM_HEAP_BYTES } from "./memory.js";

const model = (hiddenSize: number) => ({ ...DEFAULT_MODEL_CONFIG, hiddenSize });
const plenty = 64e9;

describe("checkTrainingMemory", () => {
  it("accepts the tutorial's model and refuses one past a wasm heap per thread, naming --hidden", () => {
    expect(() => checkTrainingMemory({ model: model(128), batchSize: 128, threads: 2, backend: "wasm", freeBytes: plenty })).not.toThrow();
    expect(() => checkTrainingMemory({ model: model(5000), batchSize: 128, threads: 1, backend: "wasm", freeBytes: plenty })).toThrow(
      /^--hidden 5000: training this model needs about \d+\.\d GB; a wasm engine holds at most 4\.3 GB\. Use a smaller --hidden, --layers or --batch-size\.$/,
    );
  });

  it("names --batch-size when the model fits but its batch does not, and counts every thread's share", () => {
    // A batch whose activations alone pass one heap, but whose halves fit in two.
    const batch = Math.ceil((1.5 * WASM_HEAP_BYTES) / (trainingBytes(model(128), 2) - trainingBytes(model(128), 1)));
    expect(() => checkTrainingMemory({ model: model(128), batchSize: batch, threads: 1, backend: "wasm", freeBytes: plenty })).toThrow(/^--batch-size \d+: /);
    expect(() => checkTrainingMemory({ model: model(128), batchSize: batch, threads: 2, backend: "wasm", freeBytes: plenty })).not.toThrow();
  });

  it("holds cpu to the machine's free memory, shared by its threads", () => {
    const need = trainingBytes(model(1024), 64);
    expect(() => checkTrainingMemory({ model: model(1024), batchSize: 128, threads: 2, backend: "cpu", freeBytes: 2 * need })).not.toThrow();
    expect(() => checkTrainingMemory({ model: model(1024), batchSize: 128, threads: 2, backend: "cpu", freeBytes: 1.5 * need })).toThrow(
      /^--hidden 1024: training this model needs about \d+\.\d GB per thread \(2 threads\); this machine has \d+\.\d GB free\./,
    );
    expect(() => checkTrainingMemory({ model: model(1024), batchSize: 128, threads: 1, backend: "cpu", freeBytes: 1e6, resumed: true })).toThrow(/^--resume: training this checkpoint's model/);
  });
});
