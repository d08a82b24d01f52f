import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Histogram } from "./histogram.js";

// Field numbers below are those of TensorBoard's public .proto files
// (tensorboard/compat/proto/{event,summary,histogram,tensor,tensor_shape}.proto).
// Fields are written in field-number order, as protobuf's own serializers do,
// so an Event here is byte-identical to one serialized by TensorBoard.

/** The version string readers expect in the first event of a file. */
export const FILE_VERSION = "brain.Event:2";

const DT_FLOAT = 1;
const DT_STRING = 7;
const DATA_CLASS_TENSOR = 2;

/** What one Summary.Value holds, ready to be serialized. */
export type SummaryContent =
  | { kind: "scalar"; value: number }
  | { kind: "histogram"; histogram: Histogram }
  | { kind: "image"; width: number; height: number; colorspace: number; png: Uint8Array }
  | { kind: "text"; text: string }
  | { kind: "hparams"; pluginData: Uint8Array };

// The dashboard that shows each kind. Scalars, histograms and images use the
// classic value fields (simple_value, histo, image), which every TensorBoard
// reads, old ones included; TensorBoard turns them into tensors on load and
// replaces their metadata, so the plugin name there is for other readers.
// Text has no classic field: it is a string tensor that only its plugin
// metadata and data class route to the Text dashboard. HParams data lives in the metadata
// itself, beside an empty tensor, so every value of it carries its metadata.
const PLUGIN: Record<SummaryContent["kind"], string> = {
  scalar: "scalars",
  histogram: "histograms",
  image: "images",
  text: "text",
  hparams: "hparams",
};

/** Event{wall_time, file_version}: the record every event file starts with. */
export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Bit64).double(wallTime);
  w.tag(3, WireType.LengthDelimited).string(FILE_VERSION);
  return w.finish();
}

/** Event{wall_time, graph_def}: a serialized GraphDef (see graph.ts) for the Graphs dashboard. */
export function encodeGraphEvent(wallTime: number, graphDef: Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Bit64).double(wallTime);
  w.tag(4, WireType.LengthDelimited).bytes(graphDef);
  return w.finish();
}

/**
 * Event{wall_time, step, summary{value{tag, <content>, metadata}}}.
 * `withMetadata` is set on a tag's first value in a file: TensorBoard takes a
 * series' plugin from its first value, so repeating it only costs bytes.
 */
export function encodeSummaryEvent(
  wallTime: number,
  step: number,
  tag: string,
  content: SummaryContent,
  withMetadata: boolean,
): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Bit64).double(wallTime);
  if (step !== 0) w.tag(2, WireType.Varint).int64(step);
  w.tag(5, WireType.LengthDelimited).fork(); // Event.summary
  w.tag(1, WireType.LengthDelimited).fork(); // Summary.value
  w.tag(1, WireType.LengthDelimited).string(tag);
  writeContent(w, content);
  if (withMetadata || content.kind === "hparams") writeMetadata(w, content);
  w.join();
  w.join();
  return w.finish();
}

function writeContent(w: BinaryWriter, content: SummaryContent): void {
  switch (content.kind) {
    case "scalar":
      // fround turns values beyond float32 range into ±Infinity, as a cast
      // would, instead of failing the write of a diverging loss.
      w.tag(2, WireType.Bit32).float(Math.fround(content.value));
      return;
    case "image":
      w.tag(4, WireType.LengthDelimited).fork(); // Summary.Value.image
      w.tag(1, WireType.Varint).int32(content.height);
      w.tag(2, WireType.Varint).int32(content.width);
      w.tag(3, WireType.Varint).int32(content.colorspace);
      w.tag(4, WireType.LengthDelimited).bytes(content.png);
      w.join();
      return;
    case "histogram":
      writeHistogram(w, content.histogram);
      return;
    case "text":
      w.tag(8, WireType.LengthDelimited).fork(); // Summary.Value.tensor, rank 0
      w.tag(1, WireType.Varint).int32(DT_STRING);
      w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array(0)); // shape []
      w.tag(8, WireType.LengthDelimited).string(content.text); // string_val
      w.join();
      return;
    case "hparams":
      // The HParams plugin's own writer puts a float tensor of shape [0] here.
      w.tag(8, WireType.LengthDelimited).fork(); // Summary.Value.tensor
      w.tag(1, WireType.Varint).int32(DT_FLOAT);
      w.tag(2, WireType.LengthDelimited).fork(); // shape [0]
      w.tag(2, WireType.LengthDelimited).bytes(new Uint8Array(0)); // dim{size 0}
      w.join();
      w.join();
      return;
  }
}

function writeHistogram(w: BinaryWriter, h: Histogram): void {
  w.tag(5, WireType.LengthDelimited).fork(); // Summary.Value.histo
  w.tag(1, WireType.Bit64).double(h.min);
  w.tag(2, WireType.Bit64).double(h.max);
  w.tag(3, WireType.Bit64).double(h.count);
  w.tag(4, WireType.Bit64).double(h.sum);
  w.tag(5, WireType.Bit64).double(h.sumSquares);
  if (h.bucketLimits.length > 0) {
    w.tag(6, WireType.LengthDelimited).fork();
    for (const limit of h.bucketLimits) w.double(limit);
    w.join();
    w.tag(7, WireType.LengthDelimited).fork();
    for (const count of h.bucketCounts) w.double(count);
    w.join();
  }
  w.join();
}

function writeMetadata(w: BinaryWriter, content: SummaryContent): void {
  w.tag(9, WireType.LengthDelimited).fork(); // Summary.Value.metadata
  // plugin_data{plugin_name, content}; the classic plugins' content is left
  // empty: their data protos at version 0 serialize to no bytes.
  w.tag(1, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(PLUGIN[content.kind]);
  if (content.kind === "hparams") w.tag(2, WireType.LengthDelimited).bytes(content.pluginData);
  w.join();
  if (content.kind === "text") w.tag(4, WireType.Varint).int32(DATA_CLASS_TENSOR);
  w.join();
}
