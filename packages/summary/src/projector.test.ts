import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "fast-png";
import { describe, expect, it } from "vitest";
import { parseTextFormat, type TextMessage } from "./events.test-support.js";
import { writeProjector } from "./node.js";
import { PROJECTOR_CONFIG_FILE, projectorFiles, type ProjectorEmbedding } from "./projector.js";

// Three points in two dimensions; the pictures are 2 rows x 3 columns, pixel value = 10 * point + pixel index.
const EMBEDDING: ProjectorEmbedding = {
  name: "lstm/last hidden",
  values: Float32Array.from([0.1, -2, 3.5e-8, 4, Number.NaN, 1 / 3]),
  dimension: 2,
  metadata: { columns: ["label", "prediction"], rows: [[7, 7], [2, "1\tor 2"], [1, 1]] },
  sprite: { images: Uint8Array.from({ length: 18 }, (_, k) => 10 * Math.floor(k / 6) + (k % 6)), rows: 2, cols: 3 },
};

const text = (file: string | Uint8Array | undefined) => (typeof file === "string" ? file : new TextDecoder().decode(file));

describe("projectorFiles", () => {
  it("names the tensor, metadata and sprite files in a config the text-format reader parses", () => {
    const files = projectorFiles(EMBEDDING);
    expect([...files.keys()].sort()).toEqual([
      "lstm_last_hidden.tsv",
      "lstm_last_hidden_metadata.tsv",
      "lstm_last_hidden_sprite.png",
      PROJECTOR_CONFIG_FILE,
    ]);
    const config = parseTextFormat(text(files.get(PROJECTOR_CONFIG_FILE)));
    expect(Object.keys(config)).toEqual(["embeddings"]);
    const embedding = config.embeddings![0] as TextMessage;
    expect(embedding).toEqual({
      tensor_name: ["lstm/last hidden"],
      tensor_path: ["lstm_last_hidden.tsv"],
      tensor_shape: [3, 2],
      metadata_path: ["lstm_last_hidden_metadata.tsv"],
      sprite: [{ image_path: ["lstm_last_hidden_sprite.png"], single_image_dim: [3, 2] }],
    });
  });

  it("writes one TSV line of float32 values per point and a metadata header and row per point", () => {
    const files = projectorFiles(EMBEDDING);
    const rows = text(files.get("lstm_last_hidden.tsv")).split("\n");
    expect(rows.pop()).toBe("");
    // Python's float() reads each cell ("NaN" included); compare as float32.
    expect(rows.map((row) => row.split("\t").map((cell) => Math.fround(Number(cell))))).toEqual([
      [Math.fround(0.1), -2],
      [Math.fround(3.5e-8), 4],
      [Number.NaN, Math.fround(1 / 3)],
    ]);
    expect(text(files.get("lstm_last_hidden_metadata.tsv"))).toBe("label\tprediction\n7\t7\n2\t1 or 2\n1\t1\n");
  });

  it("tiles the pictures into a square sprite sheet in point order", () => {
    const png = decode(projectorFiles(EMBEDDING).get("lstm_last_hidden_sprite.png") as Uint8Array);
    // ceil(sqrt(3)) = 2 pictures a row: 6 x 4 pixels, the fourth cell black.
    expect([png.width, png.height, png.channels]).toEqual([6, 4, 1]);
    const pixel = (x: number, y: number) => png.data[y * 6 + x];
    expect([pixel(0, 0), pixel(2, 1), pixel(3, 0), pixel(5, 1), pixel(0, 2), pixel(2, 3), pixel(4, 3)]).toEqual([0, 5, 10, 15, 20, 25, 0]);
  });

  it("writes a single metadata column without a header, and leaves out what is not given", () => {
    const files = projectorFiles({ name: "h", values: new Float32Array(4), dimension: 2, metadata: { columns: ["label"], rows: [[3], [4]] } });
    expect(text(files.get("h_metadata.tsv"))).toBe("3\n4\n");
    expect([...files.keys()].sort()).toEqual(["h.tsv", "h_metadata.tsv", PROJECTOR_CONFIG_FILE]);
    expect(parseTextFormat(text(projectorFiles({ name: "h", values: new Float32Array(4), dimension: 4 }).get(PROJECTOR_CONFIG_FILE)))).toEqual({
      embeddings: [{ tensor_name: ["h"], tensor_path: ["h.tsv"], tensor_shape: [1, 4] }],
    });
  });

  it("rejects values that are not whole rows, metadata of another length and sprites too large", () => {
    expect(() => projectorFiles({ ...EMBEDDING, values: new Float32Array(5) })).toThrow(/values.length: expected a positive multiple of dimension 2, found 5/);
    expect(() => projectorFiles({ ...EMBEDDING, metadata: { columns: ["label"], rows: [[1]] } })).toThrow(/metadata.rows.length: expected one row per point \(3\), found 1/);
    expect(() => projectorFiles({ ...EMBEDDING, metadata: { columns: ["a", "b"], rows: [[1], [2], [3]] } })).toThrow(/metadata.rows: expected rows of 2 cells/);
    expect(() => projectorFiles({ ...EMBEDDING, sprite: { images: new Uint8Array(0), rows: 5000, cols: 5000 } })).toThrow(/sprite: expected a sheet of at most 8192px/);
  });
});

describe("writeProjector", () => {
  it("writes the files into the folder, leaving no temporary files, and replaces an earlier projector", async () => {
    const dir = await mkdtemp(join(tmpdir(), "projector-test-"));
    try {
      const run = join(dir, "run");
      await writeProjector(run, { ...EMBEDDING, values: new Float32Array(6) });
      const paths = await writeProjector(run, EMBEDDING);
      expect(paths.at(-1)).toBe(join(run, PROJECTOR_CONFIG_FILE));
      const files = projectorFiles(EMBEDDING);
      expect((await readdir(run)).sort()).toEqual([...files.keys()].sort());
      for (const [name, contents] of files) {
        expect(new Uint8Array(await readFile(join(run, name)))).toEqual(typeof contents === "string" ? new TextEncoder().encode(contents) : contents);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
