import type { ModelConfig } from "@mnist/rnn";
import type { GraphAttr, GraphDType, GraphNode } from "@mnist/summary";
import type { TrainConfig } from "./config.js";

/** The batch dimension: any size. */
const BATCH = -1;

/** Collects nodes; names follow TensorFlow's ("scope/Op", then "scope/Op_1", ...). */
class Graph {
  readonly nodes: GraphNode[] = [];

  add(name: string, op: string, inputs: string[], outputShapes: number[][], attr?: Record<string, GraphAttr>): string {
    this.nodes.push({ name, op, inputs, outputShapes, ...(attr ? { attr } : {}) });
    return name;
  }

  /** A trainable variable (or optimizer slot): a VariableV2 node of that shape. */
  variable(name: string, shape: number[]): string {
    return this.add(name, "VariableV2", [], [shape], { dtype: { type: "float32" }, shape: { shape } });
  }

  placeholder(name: string, shape: number[], dtype: GraphDType = "float32"): string {
    return this.add(name, "Placeholder", [], [shape], { dtype: { type: dtype }, shape: { shape } });
  }

  constant(name: string, dtype: GraphDType): string {
    return this.add(name, "Const", [], [[]], { dtype: { type: dtype } });
  }

  /** The shape of output 0 of an added node. */
  shape(name: string): number[] {
    return this.nodes.find((node) => node.name === name)!.outputShapes[0] as number[];
  }
}

const numbered = (base: string, k: number): string => (k === 0 ? base : `${base}_${k}`);

/**
 * The model's computation as TensorBoard's Graphs dashboard draws it, following `model`:
 * placeholders for a batch of sequences and labels ("data/"), the input projection ("input/"),
 * each recurrent layer ("lstm/", "lstm_2/", ... or "gru/", ...) as a TensorFlow-style while loop
 * over the steps with the cell's ops inside ("lstm/while/lstm_cell/..."), the output layer
 * ("output/": MatMul then BiasAdd, or with outputBias "in-weights" an Add of the bias to the kernel
 * before the MatMul), softmax cross-entropy ("loss/") and accuracy ("accuracy/"). With `train`, also
 * the dropout mask, the gradients, global-norm clipping and the Adam updates ("train/"). Weights
 * are VariableV2 nodes named like the model's variables ("input/kernel", "lstm/bias"); every
 * edge carries its shape, -1 being the batch. The loop keeps the graph the same size whatever
 * the sequence length (784 steps of a pixel model included).
 */
export function modelGraph(model: ModelConfig, train?: TrainConfig): GraphNode[] {
  const { steps, inputSize, hiddenSize: hidden, classes } = model;
  const g = new Graph();
  const images = g.placeholder("data/images", [BATCH, steps, inputSize]);
  const labels = g.placeholder("data/labels", [BATCH], "int32");

  const inputKernel = g.variable("input/kernel", [inputSize, hidden]);
  const inputBias = g.variable("input/bias", [hidden]);
  const flat = g.add("input/Reshape", "Reshape", [images], [[BATCH, inputSize]]); // [batch*steps, inputs]
  const product = g.add("input/MatMul", "MatMul", [flat, inputKernel], [[BATCH, hidden]]);
  const projected = g.add("input/BiasAdd", "BiasAdd", [product, inputBias], [[BATCH, hidden]]);
  let sequence = g.add("input/Reshape_1", "Reshape", [projected], [[BATCH, steps, hidden]]);

  const variables = [inputKernel, inputBias];
  let last = "";
  for (let layer = 1; layer <= model.layers; layer++) {
    const scope = layer === 1 ? model.cell : `${model.cell}_${layer}`;
    const result = recurrentLayer(g, scope, sequence, model);
    variables.push(...result.variables);
    sequence = result.sequence;
    last = result.last;
  }

  if (train !== undefined && train.dropout > 0) {
    const mask = g.placeholder("dropout/mask", [BATCH, hidden]);
    last = g.add("dropout/mul", "Mul", [last, mask], [[BATCH, hidden]]);
  }
  const outputKernel = g.variable("output/kernel", [hidden, classes]);
  const outputBias = g.variable("output/bias", [classes]);
  variables.push(outputKernel, outputBias);
  let logits: string;
  if (model.outputBias === "in-weights") {
    // h*(W + b): the bias joins every row of the kernel before the product, nothing is added after it.
    const biasedKernel = g.add("output/add", "Add", [outputKernel, outputBias], [[hidden, classes]]);
    logits = g.add("output/MatMul", "MatMul", [last, biasedKernel], [[BATCH, classes]]);
  } else {
    const outputProduct = g.add("output/MatMul", "MatMul", [last, outputKernel], [[BATCH, classes]]);
    logits = g.add("output/BiasAdd", "BiasAdd", [outputProduct, outputBias], [[BATCH, classes]]);
  }
  g.add("output/Softmax", "Softmax", [logits], [[BATCH, classes]]);

  const oneHot = g.add("loss/OneHot", "OneHot", [labels], [[BATCH, classes]], { depth: { i: classes } });
  const crossEntropy = g.add("loss/SoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits", [logits, oneHot], [[BATCH], [BATCH, classes]]);
  const loss = g.add("loss/Mean", "Mean", [crossEntropy], [[]]);

  const predicted = g.add("accuracy/ArgMax", "ArgMax", [logits], [[BATCH]], { output_type: { type: "int64" } });
  const truth = g.add("accuracy/Cast", "Cast", [labels], [[BATCH]], { DstT: { type: "int64" } });
  const correct = g.add("accuracy/Equal", "Equal", [predicted, truth], [[BATCH]]);
  const correctFloat = g.add("accuracy/Cast_1", "Cast", [correct], [[BATCH]], { DstT: { type: "float32" } });
  g.add("accuracy/Mean", "Mean", [correctFloat], [[]]);

  if (train !== undefined) optimizer(g, variables, loss, `${crossEntropy}:1`, train);
  return g.nodes;
}

/** One recurrent layer over a [batch, steps, hidden] sequence: its output sequence and its last h. */
function recurrentLayer(g: Graph, scope: string, input: string, model: ModelConfig): { sequence: string; last: string; variables: string[] } {
  const { steps, hiddenSize: hidden } = model;
  const h2 = [BATCH, hidden];
  const lstm = model.cell === "lstm";
  const variables = lstm
    ? [g.variable(`${scope}/kernel`, [2 * hidden, 4 * hidden]), g.variable(`${scope}/bias`, [4 * hidden])]
    : [
        g.variable(`${scope}/gates/kernel`, [2 * hidden, 2 * hidden]),
        g.variable(`${scope}/gates/bias`, [2 * hidden]),
        g.variable(`${scope}/candidate/kernel`, [2 * hidden, hidden]),
        g.variable(`${scope}/candidate/bias`, [hidden]),
      ];
  const timeMajor = g.add(`${scope}/transpose`, "Transpose", [input], [[steps, BATCH, hidden]]); // [steps, batch, hidden]
  const zeros = g.add(`${scope}/zeros`, "Fill", [], [h2]);
  const start = g.constant(`${scope}/time`, "int32");
  const stepCount = g.constant(`${scope}/steps`, "int32");
  const outputs = g.add(`${scope}/TensorArray`, "TensorArrayV3", [], [[]], { element_shape: { shape: h2 } });

  // Loop variables: the step index, the TensorArray of outputs, h and (LSTM) c.
  const loop = `${scope}/while`;
  const initial = [start, outputs, zeros, ...(lstm ? [zeros] : [])];
  const shapes = [[], [], h2, ...(lstm ? [h2] : [])];
  const merges = initial.map((value, k) => {
    const enter = g.add(`${loop}/${numbered("Enter", k)}`, "Enter", [value], [shapes[k]!], { frame_name: { s: loop } });
    return g.add(`${loop}/${numbered("Merge", k)}`, "Merge", [enter, `${loop}/${numbered("NextIteration", k)}`], [shapes[k]!, []]);
  });
  const less = g.add(`${loop}/Less`, "Less", [merges[0]!, stepCount], [[]]);
  const condition = g.add(`${loop}/LoopCond`, "LoopCond", [less], [[]]);
  const switches = merges.map((merge, k) => g.add(`${loop}/${numbered("Switch", k)}`, "Switch", [merge, condition], [shapes[k]!, shapes[k]!]));
  const [time, array, h, c] = switches.map((s, k) => g.add(`${loop}/${numbered("Identity", k)}`, "Identity", [`${s}:1`], [shapes[k]!]));
  const x = g.add(`${loop}/TensorArrayReadV3`, "TensorArrayReadV3", [timeMajor, time!], [h2]);

  const next = lstm ? lstmCell(g, `${loop}/lstm_cell`, x, h!, c!, variables) : [gruCell(g, `${loop}/gru_cell`, x, h!, variables)];
  const written = g.add(`${loop}/TensorArrayWriteV3`, "TensorArrayWriteV3", [array!, time!, next[0]!], [[]]);
  const nextTime = g.add(`${loop}/add`, "Add", [time!], [[]]);
  [nextTime, written, ...next].forEach((value, k) => g.add(`${loop}/${numbered("NextIteration", k)}`, "NextIteration", [value], [shapes[k]!]));
  const exits = switches.map((s, k) => g.add(`${loop}/${numbered("Exit", k)}`, "Exit", [s], [shapes[k]!]));

  const stacked = g.add(`${scope}/TensorArrayStack/TensorArrayGatherV3`, "TensorArrayGatherV3", [exits[1]!], [[steps, BATCH, hidden]]);
  const sequence = g.add(`${scope}/transpose_1`, "Transpose", [stacked], [[BATCH, steps, hidden]]); // [batch, steps, hidden]
  return { sequence, last: exits[2]!, variables };
}

/** BasicLSTMCell's ops: gates from [x | h] * kernel + bias, split into i, j, f, o; returns the new [h, c]. */
function lstmCell(g: Graph, scope: string, x: string, h: string, c: string, [kernel, bias]: string[]): [string, string] {
  const h2 = g.shape(h);
  const width = h2[1]!;
  const concat = g.add(`${scope}/concat`, "ConcatV2", [x, h], [[BATCH, 2 * width]]);
  const product = g.add(`${scope}/MatMul`, "MatMul", [concat, kernel!], [[BATCH, 4 * width]]);
  const gates = g.add(`${scope}/BiasAdd`, "BiasAdd", [product, bias!], [[BATCH, 4 * width]]);
  const split = g.add(`${scope}/split`, "Split", [gates], [h2, h2, h2, h2], { num_split: { i: 4 } });
  const forgetBias = g.constant(`${scope}/forget_bias`, "float32");
  const forget = g.add(`${scope}/Sigmoid`, "Sigmoid", [g.add(`${scope}/add`, "Add", [`${split}:2`, forgetBias], [h2])], [h2]);
  const kept = g.add(`${scope}/mul`, "Mul", [c, forget], [h2]);
  const inputGate = g.add(`${scope}/Sigmoid_1`, "Sigmoid", [split], [h2]);
  const candidate = g.add(`${scope}/Tanh`, "Tanh", [`${split}:1`], [h2]);
  const added = g.add(`${scope}/mul_1`, "Mul", [inputGate, candidate], [h2]);
  const newC = g.add(`${scope}/add_1`, "Add", [kept, added], [h2]);
  const outputGate = g.add(`${scope}/Sigmoid_2`, "Sigmoid", [`${split}:3`], [h2]);
  const newH = g.add(`${scope}/mul_2`, "Mul", [g.add(`${scope}/Tanh_1`, "Tanh", [newC], [h2]), outputGate], [h2]);
  return [newH, newC];
}

/** GRUCell's ops: r, u = sigmoid([x | h] * Wg + bg); candidate = tanh([x | r*h] * Wc + bc); returns u*h + (1-u)*candidate. */
function gruCell(g: Graph, scope: string, x: string, h: string, [gateKernel, gateBias, candidateKernel, candidateBias]: string[]): string {
  const h2 = g.shape(h);
  const width = h2[1]!;
  const concat = g.add(`${scope}/gates/concat`, "ConcatV2", [x, h], [[BATCH, 2 * width]]);
  const product = g.add(`${scope}/gates/MatMul`, "MatMul", [concat, gateKernel!], [[BATCH, 2 * width]]);
  const sum = g.add(`${scope}/gates/BiasAdd`, "BiasAdd", [product, gateBias!], [[BATCH, 2 * width]]);
  const gates = g.add(`${scope}/gates/Sigmoid`, "Sigmoid", [sum], [[BATCH, 2 * width]]);
  const split = g.add(`${scope}/split`, "Split", [gates], [h2, h2], { num_split: { i: 2 } });
  const reset = g.add(`${scope}/candidate/mul`, "Mul", [split, h], [h2]);
  const candidateInput = g.add(`${scope}/candidate/concat`, "ConcatV2", [x, reset], [[BATCH, 2 * width]]);
  const candidateProduct = g.add(`${scope}/candidate/MatMul`, "MatMul", [candidateInput, candidateKernel!], [h2]);
  const candidateSum = g.add(`${scope}/candidate/BiasAdd`, "BiasAdd", [candidateProduct, candidateBias!], [h2]);
  const candidate = g.add(`${scope}/candidate/Tanh`, "Tanh", [candidateSum], [h2]);
  const keep = g.add(`${scope}/mul`, "Mul", [`${split}:1`, h], [h2]);
  const complement = g.add(`${scope}/sub`, "Sub", [`${split}:1`], [h2]);
  const update = g.add(`${scope}/mul_1`, "Mul", [complement, candidate], [h2]);
  return g.add(`${scope}/add`, "Add", [keep, update], [h2]);
}

/** Gradients of the loss for every variable, global-norm clipping if configured, one Adam update per variable. */
function optimizer(g: Graph, variables: string[], loss: string, lossGradient: string, train: TrainConfig): void {
  const shapes = variables.map((variable) => g.shape(variable));
  // One op with an output per variable: the model's backward pass is a single fused computation.
  const backward = g.add("train/gradients/SymbolicGradient", "SymbolicGradient", [loss, lossGradient, "data/images", ...variables], shapes);
  let gradients = variables.map((_, k) => `${backward}:${k}`);
  if (train.clipNorm !== undefined) {
    const squares = gradients.map((gradient, k) => g.add(`train/clip_by_global_norm/${numbered("L2Loss", k)}`, "L2Loss", [gradient], [[]]));
    const sum = g.add("train/clip_by_global_norm/AddN", "AddN", squares, [[]]);
    const norm = g.add("train/clip_by_global_norm/global_norm", "Sqrt", [sum], [[]]);
    const maxNorm = g.constant("train/clip_by_global_norm/clip_norm", "float32");
    const scale = g.add("train/clip_by_global_norm/scale", "RealDiv", [maxNorm, norm], [[]]);
    gradients = gradients.map((gradient, k) => g.add(`train/clip_by_global_norm/${numbered("mul", k)}`, "Mul", [gradient, scale], [shapes[k]!]));
  }
  // The schedule (warm-up, decay) sets the rate of each step, so it is fed in.
  const rate = g.placeholder("train/learning_rate", []);
  const beta1Power = g.variable("train/Adam/beta1_power", []);
  const beta2Power = g.variable("train/Adam/beta2_power", []);
  const updates = variables.map((variable, k) => {
    const m = g.variable(`train/Adam/${variable}/m`, shapes[k]!);
    const v = g.variable(`train/Adam/${variable}/v`, shapes[k]!);
    return g.add(`train/Adam/update_${variable}/ApplyAdam`, "ApplyAdam", [variable, m, v, beta1Power, beta2Power, rate, gradients[k]!], [shapes[k]!]);
  });
  g.add("train/minimize", "NoOp", updates.map((update) => `^${update}`), []);
}
