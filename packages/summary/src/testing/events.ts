// Test-only reader for what the writer produces: a TFRecord parser written
// against the documented framing, and protobufjs decoding with a schema
// transcribed from TensorBoard's .proto files. Nothing here shares code with
// the encoder except crc32c, which its own test pins to published check values.
import protobuf from "protobufjs";
import { crc32c } from "../crc32c.js";

const SCHEMA = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5; }
}
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Value {
    string tag = 1;
    oneof value { float simple_value = 2; Image image = 4; HistogramProto histo = 5; TensorProto tensor = 8; }
    SummaryMetadata metadata = 9;
  }
  repeated Value value = 1;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6; repeated double bucket = 7;
}
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; }
message TensorProto { int32 dtype = 1; TensorShapeProto tensor_shape = 2; repeated float float_val = 5; repeated bytes string_val = 8; }
`;

const EventType = protobuf.parse(SCHEMA).root.lookupType("tensorboard.Event");

export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  image?: { height: number; width: number; colorspace: number; encodedImageString: Uint8Array };
  histo?: { min: number; max: number; num: number; sum: number; sumSquares: number; bucketLimit: number[]; bucket: number[] };
  tensor?: { dtype: number; tensorShape?: { dim: { size: number }[] }; stringVal: Uint8Array[]; floatVal: number[] };
  metadata?: { pluginData?: { pluginName: string; content: Uint8Array }; dataClass: number };
}
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: DecodedValue[] };
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  return EventType.toObject(EventType.decode(bytes), { longs: Number, arrays: true, defaults: true }) as DecodedEvent;
}

function mask(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export interface ParsedRecords {
  records: Uint8Array[];
  /** Byte offset just past the last complete record. */
  end: number;
  /** Why parsing stopped before the end of the bytes, if it did. */
  stop?: "truncated" | "length crc" | "data crc";
}

/** Reads framed records until the bytes run out or a check fails. */
export function parseRecords(bytes: Uint8Array): ParsedRecords {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 12) return { records, end: offset, stop: "truncated" };
    if (view.getUint32(offset + 8, true) !== mask(crc32c(bytes.subarray(offset, offset + 8)))) {
      return { records, end: offset, stop: "length crc" };
    }
    const length = Number(view.getBigUint64(offset, true));
    if (bytes.length - offset < 16 + length) return { records, end: offset, stop: "truncated" };
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    if (view.getUint32(offset + 12 + length, true) !== mask(crc32c(data))) {
      return { records, end: offset, stop: "data crc" };
    }
    records.push(data);
    offset += 16 + length;
  }
  return { records, end: offset };
}

/** Every event in `bytes`, failing if the framing is not clean to the end. */
export function readEvents(bytes: Uint8Array): DecodedEvent[] {
  const parsed = parseRecords(bytes);
  if (parsed.stop) throw new Error(`record framing broken at byte ${parsed.end}: ${parsed.stop}`);
  return parsed.records.map(decodeEvent);
}

/** All chunks a sink received, joined. */
export function joinChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
