import { IdxFormatError } from "./errors.js";
import { gunzip, isGzip } from "./gunzip.js";
import { checkDeclaredSize, type DecodeLimits } from "./limits.js";

export type IdxDataType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: `data` holds the values row-major in the order of `shape`. */
export interface IdxArray {
  dtype: IdxDataType;
  shape: number[];
  data: IdxData;
}

interface IdxType {
  code: number;
  dtype: IdxDataType;
  bytes: number;
  create(length: number): IdxData;
  read(view: DataView, offset: number): number;
  write(view: DataView, offset: number, value: number): void;
}

// The six element types the IDX format defines; multi-byte values are big-endian.
const IDX_TYPES: readonly IdxType[] = [
  {
    code: 0x08, dtype: "uint8", bytes: 1, create: (n) => new Uint8Array(n),
    read: (v, o) => v.getUint8(o), write: (v, o, x) => v.setUint8(o, x),
  },
  {
    code: 0x09, dtype: "int8", bytes: 1, create: (n) => new Int8Array(n),
    read: (v, o) => v.getInt8(o), write: (v, o, x) => v.setInt8(o, x),
  },
  {
    code: 0x0b, dtype: "int16", bytes: 2, create: (n) => new Int16Array(n),
    read: (v, o) => v.getInt16(o, false), write: (v, o, x) => v.setInt16(o, x, false),
  },
  {
    code: 0x0c, dtype: "int32", bytes: 4, create: (n) => new Int32Array(n),
    read: (v, o) => v.getInt32(o, false), write: (v, o, x) => v.setInt32(o, x, false),
  },
  {
    code: 0x0d, dtype: "float32", bytes: 4, create: (n) => new Float32Array(n),
    read: (v, o) => v.getFloat32(o, false), write: (v, o, x) => v.setFloat32(o, x, false),
  },
  {
    code: 0x0e, dtype: "float64", bytes: 8, create: (n) => new Float64Array(n),
    read: (v, o) => v.getFloat64(o, false), write: (v, o, x) => v.setFloat64(o, x, false),
  },
];

const TYPE_CODES = "0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32) or 0x0E (float64)";
const MAX_DIMENSION = 0xffffffff;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, "0").toUpperCase()}`).join(" ");
}

/**
 * Decodes an IDX file held in memory; gzip-compressed input (gzip magic 1F 8B) is inflated first.
 * `source` names the file in errors. The returned data never shares memory with `bytes`.
 */
export function decodeIdx(bytes: Uint8Array, source = "<bytes>", limits: DecodeLimits = {}): IdxArray {
  if (isGzip(bytes)) {
    return decodeIdxPayload(gunzip(bytes, source, limits), source, true, limits);
  }
  return decodeIdxPayload(bytes, source, false, limits);
}

/**
 * Decodes uncompressed IDX bytes. With `owned`, uint8/int8 data is returned as a view of `bytes`
 * instead of a copy (for buffers nobody else holds, such as freshly inflated output).
 */
export function decodeIdxPayload(bytes: Uint8Array, source: string, owned: boolean, limits: DecodeLimits): IdxArray {
  // The magic comes first: nothing else is read from a file that is not IDX.
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(
      source,
      "magic",
      "0x00 0x00 <type code> <rank>",
      bytes.length < 4 ? `${bytes.length} byte(s): ${hex(bytes)}` : hex(bytes.subarray(0, 4)),
      "this is not an IDX file (or it is compressed with something other than gzip)",
    );
  }
  const code = bytes[2] ?? 0;
  const type = IDX_TYPES.find((t) => t.code === code);
  if (type === undefined) {
    throw new IdxFormatError(source, "type code", TYPE_CODES, hex(bytes.subarray(2, 3)));
  }
  const rank = bytes[3] ?? 0;
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw new IdxFormatError(
      source,
      "dimensions",
      `${rank} dimension sizes (a ${headerLength}-byte header)`,
      `a ${bytes.length}-byte file`,
      "the file is truncated",
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  // A float product is exact up to 2^53 and can only exceed the real length beyond it,
  // so comparing it with the payload length is safe for any claimed sizes.
  let count = 1;
  for (let axis = 0; axis < rank; axis++) {
    const size = view.getUint32(4 + 4 * axis, false);
    shape.push(size);
    count *= size;
  }
  const payloadLength = bytes.length - headerLength;
  if (count * type.bytes !== payloadLength) {
    throw new IdxFormatError(
      source,
      "payload size",
      `${shape.join(" x ") || "1 (rank 0)"} ${type.dtype} values = ${count * type.bytes} bytes`,
      `${payloadLength} bytes after the ${headerLength}-byte header`,
      count * type.bytes > payloadLength ? "the file is truncated or a dimension is wrong" : "the file has trailing bytes or a dimension is wrong",
    );
  }
  // Equal to the bytes at hand, so this only refuses in-memory input larger than the limit.
  checkDeclaredSize(source, "IDX header", payloadLength, limits, `${shape.join(" x ") || "1 (rank 0)"} ${type.dtype} values = ${payloadLength} bytes`);
  return { dtype: type.dtype, shape, data: readValues(type, bytes, headerLength, count, owned) };
}

function readValues(type: IdxType, bytes: Uint8Array, offset: number, count: number, owned: boolean): IdxData {
  if (type.dtype === "uint8") {
    return owned ? bytes.subarray(offset) : bytes.slice(offset);
  }
  if (type.dtype === "int8") {
    const source = owned ? bytes.subarray(offset) : bytes.slice(offset);
    return new Int8Array(source.buffer, source.byteOffset, count);
  }
  const data = type.create(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * type.bytes);
  for (let i = 0; i < count; i++) {
    data[i] = type.read(view, i * type.bytes);
  }
  return data;
}

/** Encodes an array as uncompressed IDX bytes (big-endian header and values). */
export function encodeIdx(array: IdxArray): Uint8Array {
  const source = "<encodeIdx input>";
  const type = IDX_TYPES.find((t) => t.dtype === array.dtype);
  if (type === undefined) {
    throw new IdxFormatError(source, "dtype", IDX_TYPES.map((t) => t.dtype).join(", "), String(array.dtype));
  }
  if (type.create(0).constructor !== array.data.constructor) {
    throw new IdxFormatError(source, "data", `a ${type.create(0).constructor.name} for dtype ${type.dtype}`, `a ${array.data.constructor.name}`);
  }
  const rank = array.shape.length;
  if (rank > 255) {
    throw new IdxFormatError(source, "rank", "at most 255 dimensions", `${rank} dimensions`);
  }
  let count = 1;
  for (const size of array.shape) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_DIMENSION) {
      throw new IdxFormatError(source, "shape", "integer sizes in 0..4294967295", `[${array.shape.join(", ")}]`);
    }
    count *= size;
  }
  if (count !== array.data.length) {
    throw new IdxFormatError(source, "data length", `${count} values for shape [${array.shape.join(", ")}]`, `${array.data.length} values`);
  }
  const headerLength = 4 + 4 * rank;
  const bytes = new Uint8Array(headerLength + count * type.bytes);
  const view = new DataView(bytes.buffer);
  bytes[2] = type.code;
  bytes[3] = rank;
  array.shape.forEach((size, axis) => view.setUint32(4 + 4 * axis, size, false));
  if (type.bytes === 1) {
    bytes.set(new Uint8Array(array.data.buffer, array.data.byteOffset, count), headerLength);
  } else {
    for (let i = 0; i < count; i++) {
      type.write(view, headerLength + i * type.bytes, array.data[i] ?? 0);
    }
  }
  return bytes;
}
