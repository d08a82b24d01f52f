// Test-only reader for what the writer produces: a TFRecord parser written
// against the documented framing, and protobufjs decoding with a schema
// transcribed from TensorBoard's .proto files (event, summary, graph, node_def,
// attr_value, the hparams plugin's api and plugin_data, google/protobuf/struct).
// Nothing here shares code with the encoder except crc32c, which its own test
// pins to published check values.
import protobuf from "protobufjs";
import { crc32c } from "./crc32c.js";

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
message GraphDef { repeated NodeDef node = 1; }
message NodeDef { string name = 1; string op = 2; repeated string input = 3; string device = 4; map<string, AttrValue> attr = 5; }
message AttrValue {
  message ListValue {
    repeated bytes s = 2; repeated int64 i = 3; repeated float f = 4; repeated bool b = 5;
    repeated int32 type = 6; repeated TensorShapeProto shape = 7;
  }
  oneof value { ListValue list = 1; bytes s = 2; int64 i = 3; float f = 4; bool b = 5; int32 type = 6; TensorShapeProto shape = 7; }
}
`;

const HPARAMS_SCHEMA = `
syntax = "proto3";
package tensorboard.hparams;
message HParamsPluginData {
  int32 version = 1;
  oneof data { Experiment experiment = 2; SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; }
}
message Experiment {
  string name = 6; string description = 1; string user = 2; double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5;
}
message HParamInfo {
  string name = 1; string display_name = 2; string description = 3; int32 type = 4;
  oneof domain { google.protobuf.ListValue domain_discrete = 5; Interval domain_interval = 6; }
  bool differs = 7;
}
message Interval { double min_value = 1; double max_value = 2; }
message MetricName { string group = 1; string tag = 2; }
message MetricInfo { MetricName name = 1; string display_name = 3; string description = 4; int32 dataset_type = 5; }
message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1; string model_uri = 2; string monitor_url = 3;
  string group_name = 4; double start_time_secs = 5;
}
message SessionEndInfo { int32 status = 1; double end_time_secs = 2; }
`;

const STRUCT_SCHEMA = `
syntax = "proto3";
package google.protobuf;
message Value {
  oneof kind {
    int32 null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4;
    Struct struct_value = 5; ListValue list_value = 6;
  }
}
message Struct { map<string, Value> fields = 1; }
message ListValue { repeated Value values = 1; }
`;

const root = protobuf.parse(SCHEMA).root;
protobuf.parse(STRUCT_SCHEMA, root);
protobuf.parse(HPARAMS_SCHEMA, root);
const EventType = root.lookupType("tensorboard.Event");
const GraphDefType = root.lookupType("tensorboard.GraphDef");
const HParamsPluginDataType = root.lookupType("tensorboard.hparams.HParamsPluginData");
const toObjectOptions = { longs: Number, arrays: true, objects: true, defaults: true, oneofs: true };

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
  graphDef?: Uint8Array;
  summary?: { value: DecodedValue[] };
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  return EventType.toObject(EventType.decode(bytes), { longs: Number, arrays: true, defaults: true }) as DecodedEvent;
}

export interface DecodedShape {
  dim: { size: number }[];
}
export interface DecodedAttr {
  value?: "list" | "s" | "i" | "f" | "b" | "type" | "shape";
  list?: { shape: DecodedShape[] };
  s?: Uint8Array;
  i?: number;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: DecodedShape;
}
export interface DecodedNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, DecodedAttr>;
}

export function decodeGraphDef(bytes: Uint8Array): { node: DecodedNode[] } {
  return GraphDefType.toObject(GraphDefType.decode(bytes), toObjectOptions) as { node: DecodedNode[] };
}

export interface DecodedProtoValue {
  kind: "nullValue" | "numberValue" | "stringValue" | "boolValue";
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
}
export interface DecodedHParamsPluginData {
  version: number;
  data: "experiment" | "sessionStartInfo" | "sessionEndInfo";
  experiment?: {
    timeCreatedSecs: number;
    hparamInfos: { name: string; description: string; type: number; domain?: string; domainDiscrete?: { values: DecodedProtoValue[] } }[];
    metricInfos: { name: { group: string; tag: string }; description: string; datasetType: number }[];
  };
  sessionStartInfo?: { hparams: Record<string, DecodedProtoValue>; groupName: string; startTimeSecs: number };
  sessionEndInfo?: { status: number; endTimeSecs: number };
}

export function decodeHParamsPluginData(bytes: Uint8Array): DecodedHParamsPluginData {
  return HParamsPluginDataType.toObject(HParamsPluginDataType.decode(bytes), toObjectOptions) as DecodedHParamsPluginData;
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

/** A message in protobuf text format, each field as a list of its values (nested messages as objects). */
export interface TextMessage {
  [field: string]: (string | number | TextMessage)[];
}

/**
 * Parses protobuf text format (`name: value` and `name { ... }`, double-quoted strings with
 * backslash escapes, numbers), enough to read a projector_config.pbtxt without the writer's code.
 */
export function parseTextFormat(text: string): TextMessage {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[{}:]|[^\s{}:"]+/g) ?? [];
  let at = 0;
  const message = (): TextMessage => {
    const fields: TextMessage = {};
    while (at < tokens.length && tokens[at] !== "}") {
      const name = tokens[at++]!;
      let value: string | number | TextMessage;
      if (tokens[at] === ":") at++;
      if (tokens[at] === "{") {
        at++;
        value = message();
        if (tokens[at++] !== "}") throw new Error(`text format: unclosed message ${name}`);
      } else {
        const token = tokens[at++]!;
        value = token.startsWith('"') ? JSON.parse(token.replace(/\\'/g, "'")) : Number(token);
      }
      (fields[name] ??= []).push(value);
    }
    return fields;
  };
  const result = message();
  if (at !== tokens.length) throw new Error(`text format: unexpected ${tokens[at]}`);
  return result;
}
