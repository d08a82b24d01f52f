import { encode as encodePng } from "fast-png";
import { SummaryValueError } from "./errors.js";
import { imageGrid } from "./image.js";

/** The file TensorBoard's projector plugin looks for in a run folder. */
export const PROJECTOR_CONFIG_FILE = "projector_config.pbtxt";

// The plugin refuses sprite sheets larger than this on either side.
const MAX_SPRITE_SIDE = 8192;

/** Points for TensorBoard's embedding projector: one vector per point, with labels and pictures. */
export interface ProjectorEmbedding {
  /** Shown in the projector's menu, e.g. "lstm/last_hidden"; the file names are made from it. */
  name: string;
  /** The vectors, row-major [count, dimension]. */
  values: Float32Array;
  /** Length of each vector. */
  dimension: number;
  /** Column names and one row of cells per point (tabs and line breaks become spaces). */
  metadata?: { columns: readonly string[]; rows: readonly (readonly (string | number)[])[] };
  /** One single-channel picture per point, rows×cols pixels each, one after another (bytes, or floats in [0, 1]). */
  sprite?: { images: Uint8Array | Float32Array; rows: number; cols: number };
}

/**
 * The files of a projector run folder for `embedding`, by file name: projector_config.pbtxt
 * (ProjectorConfig in protobuf text format) naming the tensor TSV, the metadata TSV and the
 * sprite PNG beside it. Write them into one folder, the config last.
 */
export function projectorFiles(embedding: ProjectorEmbedding): Map<string, string | Uint8Array> {
  const { name, values, dimension, metadata, sprite } = embedding;
  if (typeof name !== "string" || name.length === 0) {
    throw new SummaryValueError(String(name), "name", "a non-empty string", JSON.stringify(name) ?? String(name), "name the embedding, e.g. \"lstm/last_hidden\"");
  }
  if (!Number.isInteger(dimension) || dimension < 1 || values.length % dimension !== 0 || values.length === 0) {
    throw new SummaryValueError(name, "values.length", `a positive multiple of dimension ${dimension}`, String(values.length), "pass count*dimension values, row-major");
  }
  const count = values.length / dimension;
  const stem = name.replace(/[^A-Za-z0-9_.-]+/g, "_");
  const files = new Map<string, string | Uint8Array>();
  const config = [`embeddings {`, `  tensor_name: ${quote(name)}`, `  tensor_path: ${quote(`${stem}.tsv`)}`];
  config.push(`  tensor_shape: ${count}`, `  tensor_shape: ${dimension}`);
  files.set(`${stem}.tsv`, tensorTsv(values, count, dimension));

  if (metadata) {
    if (metadata.rows.length !== count) {
      throw new SummaryValueError(name, "metadata.rows.length", `one row per point (${count})`, String(metadata.rows.length), "label every vector");
    }
    if (metadata.columns.length === 0 || metadata.rows.some((row) => row.length !== metadata.columns.length)) {
      throw new SummaryValueError(name, "metadata.rows", `rows of ${metadata.columns.length} cells, one per column`, "a row of another length", "give every row a cell per column");
    }
    files.set(`${stem}_metadata.tsv`, metadataTsv(metadata.columns, metadata.rows));
    config.push(`  metadata_path: ${quote(`${stem}_metadata.tsv`)}`);
  }

  if (sprite) {
    const perRow = Math.ceil(Math.sqrt(count));
    if (perRow * Math.max(sprite.rows, sprite.cols) > MAX_SPRITE_SIDE) {
      throw new SummaryValueError(name, "sprite", `a sheet of at most ${MAX_SPRITE_SIDE}px a side`, `${perRow} pictures of ${sprite.cols}px a row`, "project fewer points or smaller pictures");
    }
    const sheet = imageGrid(sprite.images, count, sprite.rows, sprite.cols, perRow);
    files.set(`${stem}_sprite.png`, encodePng({ width: sheet.width, height: sheet.height, data: sheet.pixels, channels: 1, depth: 8 }));
    config.push(`  sprite {`, `    image_path: ${quote(`${stem}_sprite.png`)}`, `    single_image_dim: ${sprite.cols}`, `    single_image_dim: ${sprite.rows}`, `  }`);
  }
  config.push("}", "");
  files.set(PROJECTOR_CONFIG_FILE, config.join("\n"));
  return files;
}

/** One line of tab-separated numbers per vector: the plugin's TSV tensor format. */
function tensorTsv(values: Float32Array, count: number, dimension: number): string {
  const lines: string[] = [];
  for (let n = 0; n < count; n++) lines.push(Array.from(values.subarray(n * dimension, (n + 1) * dimension), String).join("\t"));
  return `${lines.join("\n")}\n`;
}

/** A header row (unless there is a single column, which the plugin reads without one) and a row per point. */
function metadataTsv(columns: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (value: string | number): string => String(value).replace(/[\t\r\n]+/g, " ");
  const lines = columns.length === 1 ? [] : [columns.map(cell).join("\t")];
  for (const row of rows) lines.push(row.map(cell).join("\t"));
  return `${lines.join("\n")}\n`;
}

/** A protobuf text-format string literal. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
