import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { GraphDefError } from "./errors.js";

// Field numbers are those of TensorBoard's graph.proto (GraphDef), node_def.proto (NodeDef),
// attr_value.proto (AttrValue) and tensor_shape.proto, as in event.ts.

/** Element types a node attribute can name (TensorFlow's DataType enum). */
export type GraphDType = "float32" | "int32" | "int64" | "bool" | "string";

const DATA_TYPE: Record<GraphDType, number> = { float32: 1, int32: 3, string: 7, int64: 9, bool: 10 };

/** One attribute value of a node: exactly one of these. */
export type GraphAttr =
  | { type: GraphDType }
  | { shape: readonly number[] }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { s: string };

/** One operation of a graph, as TensorBoard's Graphs dashboard draws it. */
export interface GraphNode {
  /** Unique name; "/" separates name scopes, which TensorBoard folds into boxes, e.g. "lstm/while/MatMul". */
  name: string;
  /** Operation type, e.g. "MatMul" or "VariableV2". */
  op: string;
  /** The outputs this node reads: "name" (output 0), "name:k" (output k) or "^name" (runs after name); default none. */
  inputs?: readonly string[];
  /** Shape of each output, -1 for a size known only at run time (the batch); drawn on the edges. */
  outputShapes: readonly (readonly number[])[];
  /** Further attributes, e.g. { T: { type: "float32" } }; "_output_shapes" is made from outputShapes. */
  attr?: Readonly<Record<string, GraphAttr>>;
}

/**
 * A serialized GraphDef of `nodes`, for Event.graph_def. Every input must name a node of the
 * list and an output it has, so TensorBoard draws every edge; cycles (a loop's back edge into
 * its Merge) are allowed, as in TensorFlow's own graphs.
 */
export function encodeGraphDef(nodes: readonly GraphNode[]): Uint8Array {
  checkGraph(nodes);
  const w = new BinaryWriter();
  for (const node of nodes) {
    w.tag(1, WireType.LengthDelimited).fork(); // GraphDef.node
    w.tag(1, WireType.LengthDelimited).string(node.name);
    w.tag(2, WireType.LengthDelimited).string(node.op);
    for (const input of node.inputs ?? []) w.tag(3, WireType.LengthDelimited).string(input);
    const attrs: [string, GraphAttr | readonly (readonly number[])[]][] = Object.entries(node.attr ?? {});
    attrs.push(["_output_shapes", node.outputShapes]);
    // Map entries sorted by key, as protobuf's deterministic serialization writes them.
    attrs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, value] of attrs) {
      w.tag(5, WireType.LengthDelimited).fork(); // NodeDef.attr entry
      w.tag(1, WireType.LengthDelimited).string(key);
      w.tag(2, WireType.LengthDelimited).fork(); // AttrValue
      if (Array.isArray(value)) writeShapeList(w, value as readonly (readonly number[])[]);
      else writeAttr(w, value as GraphAttr);
      w.join();
      w.join();
    }
    w.join();
  }
  return w.finish();
}

function writeAttr(w: BinaryWriter, attr: GraphAttr): void {
  if ("type" in attr) w.tag(6, WireType.Varint).int32(DATA_TYPE[attr.type]);
  else if ("shape" in attr) writeShape(w.tag(7, WireType.LengthDelimited), attr.shape);
  else if ("i" in attr) w.tag(3, WireType.Varint).int64(attr.i);
  else if ("f" in attr) w.tag(4, WireType.Bit32).float(Math.fround(attr.f));
  else if ("b" in attr) w.tag(5, WireType.Varint).bool(attr.b);
  else w.tag(2, WireType.LengthDelimited).string(attr.s);
}

/** AttrValue.list{shape: ...}: the type of "_output_shapes". */
function writeShapeList(w: BinaryWriter, shapes: readonly (readonly number[])[]): void {
  w.tag(1, WireType.LengthDelimited).fork(); // AttrValue.list
  for (const shape of shapes) writeShape(w.tag(7, WireType.LengthDelimited), shape);
  w.join();
}

/** A TensorShapeProto, its tag already written. */
function writeShape(w: BinaryWriter, shape: readonly number[]): void {
  w.fork();
  for (const size of shape) {
    w.tag(2, WireType.LengthDelimited).fork(); // TensorShapeProto.dim
    if (size !== 0) w.tag(1, WireType.Varint).int64(size);
    w.join();
  }
  w.join();
}

function checkGraph(nodes: readonly GraphNode[]): void {
  const outputs = new Map<string, number>();
  for (const node of nodes) {
    if (typeof node.name !== "string" || !/^[A-Za-z0-9.][A-Za-z0-9_.\-/]*$/.test(node.name) || node.name.endsWith("/")) {
      throw new GraphDefError(String(node.name), "name", "letters, digits and . _ - / (scopes separated by /), not ending in /", JSON.stringify(node.name), "name nodes like \"lstm/while/MatMul\"");
    }
    if (outputs.has(node.name)) throw new GraphDefError(node.name, "name", "a name no other node has", "a second node of that name", "number repeated ops, e.g. \"mul_1\"");
    if (typeof node.op !== "string" || node.op.length === 0) {
      throw new GraphDefError(node.name, "op", "an operation type such as \"MatMul\"", JSON.stringify(node.op), "give every node its op");
    }
    for (const shape of node.outputShapes) {
      if (!shape.every((size) => Number.isSafeInteger(size) && size >= -1)) {
        throw new GraphDefError(node.name, "outputShapes", "sizes that are integers >= 0, or -1 for unknown", `[${shape.join(", ")}]`, "use -1 for the batch dimension");
      }
    }
    outputs.set(node.name, node.outputShapes.length);
  }
  for (const node of nodes) {
    for (const input of node.inputs ?? []) {
      const control = input.startsWith("^");
      const [, name = "", index = "0"] = /^\^?(.*?)(?::(\d+))?$/.exec(input) ?? [];
      const count = outputs.get(name);
      if (count === undefined) {
        throw new GraphDefError(node.name, "inputs", "names of nodes in the graph", JSON.stringify(input), "add the node it reads, or fix the name");
      }
      if (!control && Number(index) >= count) {
        throw new GraphDefError(node.name, "inputs", `an output of "${name}", which has ${count}`, JSON.stringify(input), "list one shape per output in the input node's outputShapes");
      }
    }
  }
}
