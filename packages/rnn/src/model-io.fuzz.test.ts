import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "./backends.test-support.js";
import { ModelFormatError, ModelTooLargeError } from "./errors.js";
import { readModel, writeModel } from "./model-io.js";
import { SequenceClassifier } from "./sequence-classifier.js";

// Hostile model files, made in code from one valid pair (ours and the Layers export): every case
// must load or throw the package's named error, within a time and memory bound, with a reader
// limit far below what corrupted shapes claim, so "allocates the claimed size" would show.
const MAX_BYTES = 1 << 20;
const MEMORY_BOUND = 32 << 20;
const TIME_BOUND_MS = 2000;

type Files = Map<string, Uint8Array>;
let valid: Record<"mnist-rnn" | "tfjs-layers", Files>;

beforeAll(async () => {
  await useBackend("cpu");
  const model = SequenceClassifier.create({ inputSize: 3, steps: 4, hiddenSize: 5, classes: 3, layers: 2, seed: 2 });
  const store = async (format: "mnist-rnn" | "tfjs-layers"): Promise<Files> => {
    const files: Files = new Map();
    await writeModel(model, async (name, bytes) => void files.set(name, bytes.slice()), { format });
    return files;
  };
  valid = { "mnist-rnn": await store("mnist-rnn"), "tfjs-layers": await store("tfjs-layers") };
  model.dispose();
});

type Corruption =
  | { kind: "json value"; path: number[]; value: unknown }
  | { kind: "json bytes"; flips: { at: number; xor: number }[] }
  | { kind: "truncate weights"; at: number }
  | { kind: "flip weights"; flips: { at: number; xor: number }[] }
  | { kind: "shape"; weight: number; shape: number[] };

const jsonValues = fc.oneof(
  fc.constantFrom(null, true, "", "layers-model", "mnist-rnn/sequence-classifier", [], {}, -1, 0, 1e308, 2 ** 31),
  fc.jsonValue({ maxDepth: 2 }),
);
const corruptions: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant("json value" as const), path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: jsonValues }),
  fc.record({ kind: fc.constant("json bytes" as const), flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("truncate weights" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip weights" as const), flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant("shape" as const), weight: fc.nat(), shape: fc.array(fc.oneof(fc.nat(10), fc.integer({ min: 0, max: 2 ** 32 })), { maxLength: 4 }) }),
);

/** Replaces the value at `path` (each step picks a key or an index modulo the container's size). */
function setAt(json: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || typeof json !== "object" || json === null) return value;
  const [step = 0, ...rest] = path;
  const keys = Array.isArray(json) ? json.map((_, k) => k) : Object.keys(json);
  if (keys.length === 0) return value;
  const key = keys[step % keys.length] as string | number;
  (json as Record<string | number, unknown>)[key] = setAt((json as Record<string | number, unknown>)[key], rest, value);
  return json;
}

function corrupt(original: Files, corruption: Corruption): Files {
  const files: Files = new Map([...original].map(([name, bytes]) => [name, bytes.slice()]));
  const json = () => JSON.parse(new TextDecoder().decode(files.get("model.json")));
  const setJson = (value: unknown) => files.set("model.json", new TextEncoder().encode(JSON.stringify(value)));
  const flip = (name: string, flips: { at: number; xor: number }[]) => {
    const bytes = files.get(name) as Uint8Array;
    for (const { at, xor } of flips) bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ xor;
  };
  switch (corruption.kind) {
    case "json value":
      setJson(setAt(json(), corruption.path, corruption.value));
      break;
    case "json bytes":
      flip("model.json", corruption.flips);
      break;
    case "truncate weights": {
      const bytes = files.get("weights.bin") as Uint8Array;
      files.set("weights.bin", bytes.subarray(0, corruption.at % (bytes.length + 1)));
      break;
    }
    case "flip weights":
      flip("weights.bin", corruption.flips);
      break;
    case "shape": {
      const parsed = json();
      const specs = parsed.weightsManifest[0].weights;
      specs[corruption.weight % specs.length].shape = corruption.shape;
      setJson(parsed);
      break;
    }
  }
  return files;
}

describe.each(["mnist-rnn", "tfjs-layers"] as const)("hostile %s model files", (format) => {
  it("load, or throw ModelFormatError / ModelTooLargeError, in bounded time and memory", async () => {
    const outcomes = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(corruptions, async (corruption) => {
        const files = corrupt(valid[format], corruption);
        const before = process.memoryUsage().arrayBuffers;
        const started = performance.now();
        try {
          const model = await readModel(async (name) => files.get(name) ?? new Uint8Array(0), { maxBytes: MAX_BYTES });
          for (const variable of Object.values(model.variables)) {
            expect(Array.from(variable.dataSync()).every(Number.isFinite)).toBe(true);
          }
          model.dispose();
          outcomes.loaded += 1;
        } catch (error) {
          if (!(error instanceof ModelFormatError || error instanceof ModelTooLargeError)) throw error;
          expect(error.message).not.toMatch(/[\u0000-\u001f]/);
          outcomes.refused += 1;
        }
        expect(performance.now() - started).toBeLessThan(TIME_BOUND_MS);
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MEMORY_BOUND);
      }),
      { numRuns: 400, seed: 20261201 },
    );
    // Both kinds of case happen: harmless changes (a flipped low bit of a weight) and refusals.
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(outcomes.loaded);
    console.log(`${format}: ${outcomes.loaded} loaded, ${outcomes.refused} refused`);
  }, 120_000);
});
