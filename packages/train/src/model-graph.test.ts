import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { DEFAULT_MODEL_CONFIG, SequenceClassifier, type ModelConfig } from "@mnist/rnn";
import { SummaryWriter, type GraphNode } from "@mnist/summary";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TRAIN_CONFIG } from "./config.js";
import { modelGraph } from "./model-graph.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const index = (nodes: GraphNode[]) => new Map(nodes.map((n) => [n.name, n]));
const source = (input: string) => input.replace(/^\^/, "").replace(/:\d+$/, "");

/** The model's own variables (not optimizer slots) with their shapes. */
function variableNodes(nodes: GraphNode[]): [string, readonly number[]][] {
  return nodes.filter((n) => n.op === "VariableV2" && !n.name.startsWith("train/")).map((n) => [n.name, n.outputShapes[0]!]);
}

function modelVariables(config: Partial<ModelConfig>): [string, readonly number[]][] {
  const model = SequenceClassifier.create(config);
  const variables = Object.entries(model.variables).map(([name, v]): [string, readonly number[]] => [name, v.shape]);
  model.dispose();
  return variables;
}

/** Every input names a node and one of its outputs; without the loops' back edges (into Merge) the graph has no cycle. */
function expectWellFormed(nodes: GraphNode[]): void {
  const byName = index(nodes);
  expect(byName.size).toBe(nodes.length);
  for (const node of nodes) {
    expect(node.outputShapes.every((shape) => shape.every((size) => Number.isInteger(size) && size >= -1))).toBe(true);
    for (const input of node.inputs ?? []) {
      const from = byName.get(source(input));
      expect(from, `${node.name} reads ${input}`).toBeDefined();
      const k = Number(/:(\d+)$/.exec(input)?.[1] ?? 0);
      if (!input.startsWith("^")) expect(k).toBeLessThan(from!.outputShapes.length);
    }
  }
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    expect(visiting.has(name), `cycle through ${name}`).toBe(false);
    visiting.add(name);
    const node = byName.get(name)!;
    for (const input of node.inputs ?? []) if (!(node.op === "Merge" && source(input).includes("NextIteration"))) visit(source(input));
    visiting.delete(name);
    done.add(name);
  };
  for (const node of nodes) visit(node.name);
}

describe("modelGraph", () => {
  it("draws the tutorial's model under name scopes, its weights as the model's variables, shapes on every edge", () => {
    const nodes = modelGraph(DEFAULT_MODEL_CONFIG, DEFAULT_TRAIN_CONFIG);
    expectWellFormed(nodes);
    const byName = index(nodes);
    expect([...new Set(nodes.map((n) => n.name.split("/")[0]))]).toEqual(["data", "input", "lstm", "output", "loss", "accuracy", "train"]);
    expect(variableNodes(nodes)).toEqual(modelVariables(DEFAULT_MODEL_CONFIG));
    const shape = (name: string) => byName.get(name)!.outputShapes;
    expect(shape("data/images")).toEqual([[-1, 28, 28]]);
    expect(shape("data/labels")).toEqual([[-1]]);
    expect(shape("input/Reshape_1")).toEqual([[-1, 28, 128]]);
    expect(shape("lstm/transpose")).toEqual([[28, -1, 128]]);
    expect(shape("lstm/while/lstm_cell/split")).toEqual([[-1, 128], [-1, 128], [-1, 128], [-1, 128]]);
    expect(shape("lstm/while/lstm_cell/MatMul")).toEqual([[-1, 512]]);
    expect(shape("output/BiasAdd")).toEqual([[-1, 10]]);
    expect(shape("loss/SoftmaxCrossEntropyWithLogits")).toEqual([[-1], [-1, 10]]);
    expect(shape("loss/Mean")).toEqual([[]]);
    const inputs = (name: string) => byName.get(name)!.inputs;
    // The cell reads the step's input and h, and its new h and c go back round the loop.
    expect(inputs("lstm/while/lstm_cell/concat")).toEqual(["lstm/while/TensorArrayReadV3", "lstm/while/Identity_2"]);
    expect(inputs("lstm/while/lstm_cell/MatMul")).toEqual(["lstm/while/lstm_cell/concat", "lstm/kernel"]);
    expect(inputs("lstm/while/lstm_cell/add")).toEqual(["lstm/while/lstm_cell/split:2", "lstm/while/lstm_cell/forget_bias"]);
    expect(inputs("lstm/while/NextIteration_2")).toEqual(["lstm/while/lstm_cell/mul_2"]);
    expect(inputs("lstm/while/NextIteration_3")).toEqual(["lstm/while/lstm_cell/add_1"]);
    expect(inputs("lstm/while/Merge_2")).toEqual(["lstm/while/Enter_2", "lstm/while/NextIteration_2"]);
    // The output layer reads the last h; the loss and accuracy read the logits and the labels.
    expect(inputs("output/MatMul")).toEqual(["lstm/while/Exit_2", "output/kernel"]);
    expect(inputs("loss/SoftmaxCrossEntropyWithLogits")).toEqual(["output/BiasAdd", "loss/OneHot"]);
    expect(inputs("accuracy/Equal")).toEqual(["accuracy/ArgMax", "accuracy/Cast"]);
    // One Adam update per variable, of its shape, all run by train/minimize; no clipping or dropout by default.
    const updates = nodes.filter((n) => n.op === "ApplyAdam");
    expect(updates.map((n) => [n.inputs![0], n.outputShapes[0]])).toEqual(modelVariables(DEFAULT_MODEL_CONFIG));
    expect(inputs("train/minimize")).toEqual(updates.map((n) => `^${n.name}`));
    expect(nodes.some((n) => n.name.startsWith("dropout/") || n.name.includes("clip_by_global_norm"))).toBe(false);
    // SummaryWriter accepts it.
    new SummaryWriter(() => undefined).graph(nodes);
  });

  it("follows the config: cell, layers, width and sequence length, at a size that does not grow with the steps", () => {
    const config = { ...DEFAULT_MODEL_CONFIG, cell: "gru" as const, layers: 2, hiddenSize: 16, steps: 784, inputSize: 1 };
    const nodes = modelGraph(config, DEFAULT_TRAIN_CONFIG);
    expectWellFormed(nodes);
    const byName = index(nodes);
    expect(variableNodes(nodes)).toEqual(modelVariables(config));
    expect(byName.get("data/images")!.outputShapes).toEqual([[-1, 784, 1]]);
    expect(byName.get("gru_2/transpose")!.inputs).toEqual(["gru/transpose_1"]);
    expect(byName.get("gru_2/transpose")!.outputShapes).toEqual([[784, -1, 16]]);
    expect(byName.get("gru/while/gru_cell/candidate/MatMul")!.inputs).toEqual(["gru/while/gru_cell/candidate/concat", "gru/candidate/kernel"]);
    expect(byName.get("gru/while/NextIteration_2")!.inputs).toEqual(["gru/while/gru_cell/add"]);
    expect(byName.get("output/MatMul")!.inputs).toEqual(["gru_2/while/Exit_2", "output/kernel"]);
    expect(nodes.some((n) => n.name.startsWith("lstm"))).toBe(false);
    expect(nodes.length).toBe(modelGraph({ ...config, steps: 28, inputSize: 28 }, DEFAULT_TRAIN_CONFIG).length);
    expect(nodes.length).toBeLessThan(250);
  });

  it("adds the output bias to the kernel before the product when the bias is in the weights", () => {
    const config = { ...DEFAULT_MODEL_CONFIG, denseInit: "normal" as const, outputBias: "in-weights" as const };
    const nodes = modelGraph(config, DEFAULT_TRAIN_CONFIG);
    expectWellFormed(nodes);
    const byName = index(nodes);
    expect(variableNodes(nodes)).toEqual(modelVariables(config));
    expect(byName.get("output/add")!.inputs).toEqual(["output/kernel", "output/bias"]);
    expect(byName.get("output/add")!.outputShapes).toEqual([[128, 10]]);
    expect(byName.get("output/MatMul")!.inputs).toEqual(["lstm/while/Exit_2", "output/add"]);
    expect(byName.has("output/BiasAdd")).toBe(false);
    expect(byName.get("loss/SoftmaxCrossEntropyWithLogits")!.inputs).toEqual(["output/MatMul", "loss/OneHot"]);
    expect(byName.get("accuracy/ArgMax")!.inputs).toEqual(["output/MatMul"]);
  });

  it("adds dropout and clipping when the training config uses them, and leaves training out without one", () => {
    const nodes = modelGraph(DEFAULT_MODEL_CONFIG, { ...DEFAULT_TRAIN_CONFIG, dropout: 0.2, clipNorm: 5 });
    expectWellFormed(nodes);
    const byName = index(nodes);
    expect(byName.get("dropout/mul")!.inputs).toEqual(["lstm/while/Exit_2", "dropout/mask"]);
    expect(byName.get("output/MatMul")!.inputs).toEqual(["dropout/mul", "output/kernel"]);
    const variables = modelVariables(DEFAULT_MODEL_CONFIG);
    expect(nodes.filter((n) => n.op === "L2Loss").length).toBe(variables.length);
    expect(nodes.filter((n) => n.op === "ApplyAdam").map((n) => n.inputs!.at(-1))).toEqual(variables.map((_, k) => `train/clip_by_global_norm/mul${k === 0 ? "" : `_${k}`}`));

    const inference = modelGraph(DEFAULT_MODEL_CONFIG);
    expectWellFormed(inference);
    expect(inference.some((n) => n.name.startsWith("train/") || n.name.startsWith("dropout/"))).toBe(false);
    expect(inference.length).toBeLessThan(nodes.length);
  });
});
