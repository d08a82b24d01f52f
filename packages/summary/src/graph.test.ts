import { describe, expect, it } from "vitest";
import { GraphDefError } from "./errors.js";
import { decodeGraphDef, joinChunks, readEvents, type DecodedAttr } from "./events.test-support.js";
import { encodeGraphDef, type GraphNode } from "./graph.js";
import { SummaryWriter } from "./writer.js";

const shapeOf = (attr: DecodedAttr | undefined) => attr?.shape?.dim.map((d) => d.size);
const outputShapes = (attr: DecodedAttr | undefined) => attr?.list?.shape.map((s) => s.dim.map((d) => d.size));

// A two-op dense layer with a variable, a multi-output op, a loop back edge and a control input.
const NODES: GraphNode[] = [
  { name: "data/images", op: "Placeholder", outputShapes: [[-1, 28, 28]], attr: { dtype: { type: "float32" }, shape: { shape: [-1, 28, 28] } } },
  { name: "dense/kernel", op: "VariableV2", outputShapes: [[28, 4]], attr: { dtype: { type: "float32" }, shape: { shape: [28, 4] } } },
  { name: "dense/MatMul", op: "MatMul", inputs: ["data/images", "dense/kernel"], outputShapes: [[-1, 4]], attr: { transpose_a: { b: false }, T: { type: "float32" } } },
  { name: "dense/split", op: "Split", inputs: ["dense/MatMul"], outputShapes: [[-1, 2], [-1, 2]], attr: { num_split: { i: 2 } } },
  { name: "loop/Merge", op: "Merge", inputs: ["dense/split:1", "loop/NextIteration"], outputShapes: [[-1, 2], []] },
  { name: "loop/NextIteration", op: "NextIteration", inputs: ["loop/Merge"], outputShapes: [[-1, 2]], attr: { note: { s: "back edge" }, scale: { f: 0.5 } } },
  { name: "train", op: "NoOp", inputs: ["^loop/Merge"], outputShapes: [] },
];

describe("encodeGraphDef", () => {
  it("writes every node with its op, inputs, attrs and _output_shapes, as TensorBoard's schema decodes them", () => {
    const { node } = decodeGraphDef(encodeGraphDef(NODES));
    expect(node.map((n) => [n.name, n.op, n.input])).toEqual(NODES.map((n) => [n.name, n.op, n.inputs ?? []]));
    const byName = new Map(node.map((n) => [n.name, n]));
    expect(outputShapes(byName.get("data/images")!.attr._output_shapes)).toEqual([[-1, 28, 28]]);
    expect(outputShapes(byName.get("dense/split")!.attr._output_shapes)).toEqual([[-1, 2], [-1, 2]]);
    expect(outputShapes(byName.get("loop/Merge")!.attr._output_shapes)).toEqual([[-1, 2], []]);
    expect(outputShapes(byName.get("train")!.attr._output_shapes)).toEqual([]);
    const images = byName.get("data/images")!.attr;
    expect(images.dtype).toMatchObject({ value: "type", type: 1 }); // DT_FLOAT
    expect(shapeOf(images.shape)).toEqual([-1, 28, 28]);
    const matMul = byName.get("dense/MatMul")!.attr;
    expect(matMul.transpose_a).toMatchObject({ value: "b", b: false });
    expect(Object.keys(matMul).sort()).toEqual(["T", "_output_shapes", "transpose_a"]);
    expect(byName.get("dense/split")!.attr.num_split).toMatchObject({ value: "i", i: 2 });
    const next = byName.get("loop/NextIteration")!.attr;
    expect(new TextDecoder().decode(next.note!.s)).toBe("back edge");
    expect(next.scale).toMatchObject({ value: "f", f: 0.5 });
    // Every input names an existing node and one of its outputs.
    for (const n of node) {
      for (const input of n.input) {
        const [name, index = "0"] = input.replace(/^\^/, "").split(":");
        expect(byName.has(name!)).toBe(true);
        if (!input.startsWith("^")) expect(Number(index)).toBeLessThan(outputShapes(byName.get(name!)!.attr._output_shapes)!.length);
      }
    }
  });

  it("rejects inputs that name no node or no output of it, repeated names and bad shapes", () => {
    const dense = NODES.slice(0, 3);
    const withNode = (node: GraphNode) => () => encodeGraphDef([...dense, node]);
    expect(withNode({ name: "x", op: "Identity", inputs: ["dense/Matmul"], outputShapes: [[1]] })).toThrow(
      /graph node "x": inputs: expected names of nodes in the graph, found "dense\/Matmul"/,
    );
    expect(withNode({ name: "x", op: "Identity", inputs: ["dense/MatMul:1"], outputShapes: [[1]] })).toThrow(/an output of "dense\/MatMul", which has 1/);
    expect(withNode({ name: "dense/kernel", op: "Identity", outputShapes: [[1]] })).toThrow(GraphDefError);
    expect(withNode({ name: "x", op: "Identity", outputShapes: [[-2]] })).toThrow(/outputShapes: expected sizes that are integers/);
    expect(withNode({ name: "x/", op: "Identity", outputShapes: [] })).toThrow(/name: expected/);
    expect(withNode({ name: "x", op: "", outputShapes: [] })).toThrow(/op: expected/);
  });
});

describe("SummaryWriter.graph", () => {
  it("writes one Event whose graph_def holds the GraphDef", async () => {
    const chunks: Uint8Array[] = [];
    const writer = new SummaryWriter((chunk) => void chunks.push(chunk), { clock: () => 1_700_000_000 });
    writer.graph(NODES);
    writer.scalar("loss", 1, 1);
    await writer.close();
    const events = readEvents(joinChunks(chunks));
    expect(events.map((e) => [e.fileVersion !== undefined, e.graphDef !== undefined, e.summary !== undefined])).toEqual([
      [true, false, false],
      [false, true, false],
      [false, false, true],
    ]);
    expect(decodeGraphDef(events[1]!.graphDef!).node.map((n) => n.name)).toEqual(NODES.map((n) => n.name));
    expect(() => writer.graph(NODES)).toThrow(/writer is closed/);
  });
});
