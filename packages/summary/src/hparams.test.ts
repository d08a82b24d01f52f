import { describe, expect, it } from "vitest";
import { decodeHParamsPluginData, joinChunks, readEvents, type DecodedValue } from "./events.test-support.js";
import { HPARAMS_TAGS, type HParamsExperiment } from "./hparams.js";
import { SummaryWriter } from "./writer.js";

const EXPERIMENT: HParamsExperiment = {
  hparams: [
    { name: "lr", type: "number", description: "Adam step size" },
    { name: "cell", type: "string", values: ["lstm", "gru"] },
    { name: "keep_best", type: "bool", values: [false, true] },
  ],
  metrics: [
    { tag: "test/accuracy", description: "accuracy on the test set" },
    { tag: "validation/best_accuracy", dataset: "validation" },
    { tag: "loss", dataset: "training" },
  ],
};

function write(body: (writer: SummaryWriter) => void) {
  const chunks: Uint8Array[] = [];
  let t = 1_700_000_000;
  const writer = new SummaryWriter((chunk) => void chunks.push(chunk), { clock: () => (t += 1) });
  body(writer);
  return { writer, values: async () => (await writer.close(), readEvents(joinChunks(chunks)).slice(1).map((e) => e.summary!.value[0]!)) };
}

/** The HParamsPluginData of a value, checking the container the plugin expects around it. */
function pluginData(value: DecodedValue) {
  expect(value.metadata?.pluginData?.pluginName).toBe("hparams");
  // An empty float tensor of shape [0], as the plugin's own writer makes.
  expect(value.tensor).toMatchObject({ dtype: 1, tensorShape: { dim: [{ size: 0 }] }, floatVal: [], stringVal: [] });
  return decodeHParamsPluginData(value.metadata!.pluginData!.content);
}

describe("SummaryWriter.hparams", () => {
  it("writes the experiment's columns and the session's values, version 0", async () => {
    const { values } = write((w) => w.hparams(EXPERIMENT, { lr: 0.001, cell: "gru", keep_best: true }));
    const [experiment, start, ...rest] = await values();
    expect(rest).toEqual([]);
    expect([experiment!.tag, start!.tag]).toEqual([HPARAMS_TAGS.experiment, HPARAMS_TAGS.sessionStart]);

    const e = pluginData(experiment!);
    expect([e.version, e.data]).toEqual([0, "experiment"]);
    expect(e.experiment!.timeCreatedSecs).toBe(1_700_000_002);
    expect(e.experiment!.hparamInfos.map((h) => [h.name, h.type, h.description])).toEqual([
      ["lr", 3, "Adam step size"], // DATA_TYPE_FLOAT64
      ["cell", 1, ""], // DATA_TYPE_STRING
      ["keep_best", 2, ""], // DATA_TYPE_BOOL
    ]);
    expect(e.experiment!.hparamInfos[0]!.domain).toBeUndefined();
    expect(e.experiment!.hparamInfos[1]!.domainDiscrete!.values.map((v) => v.stringValue)).toEqual(["lstm", "gru"]);
    expect(e.experiment!.hparamInfos[2]!.domainDiscrete!.values.map((v) => [v.kind, v.boolValue])).toEqual([["boolValue", false], ["boolValue", true]]);
    expect(e.experiment!.metricInfos.map((m) => [m.name.group, m.name.tag, m.datasetType])).toEqual([
      ["", "test/accuracy", 0],
      ["", "validation/best_accuracy", 2],
      ["", "loss", 1],
    ]);

    const s = pluginData(start!);
    expect([s.version, s.data]).toEqual([0, "sessionStartInfo"]);
    expect(s.sessionStartInfo!.startTimeSecs).toBe(1_700_000_002);
    expect(s.sessionStartInfo!.groupName).toBe("");
    expect(s.sessionStartInfo!.hparams).toEqual({
      lr: { kind: "numberValue", numberValue: 0.001 },
      cell: { kind: "stringValue", stringValue: "gru" },
      keep_best: { kind: "boolValue", boolValue: true },
    });
  });

  it("writes the session end with its status, its metadata on every hparams value", async () => {
    const { values } = write((w) => {
      w.hparams(EXPERIMENT, { lr: 0.01 });
      w.hparamsEnd("success");
      w.hparamsEnd("failure");
    });
    const [, , end, again] = await values();
    expect(end!.tag).toBe(HPARAMS_TAGS.sessionEnd);
    const data = [end!, again!].map((v) => pluginData(v));
    expect(data.map((d) => [d.data, d.sessionEndInfo!.status])).toEqual([
      ["sessionEndInfo", 1], // STATUS_SUCCESS
      ["sessionEndInfo", 2], // STATUS_FAILURE
    ]);
    // Clock readings: 1 file version, 2 hparams(), 3-4 its events, 5 hparamsEnd().
    expect(data[0]!.sessionEndInfo!.endTimeSecs).toBe(1_700_000_005);
  });

  it("rejects values with no column or of another type than the column's, and unknown statuses", () => {
    const { writer } = write(() => undefined);
    expect(() => writer.hparams(EXPERIMENT, { lr: "0.1" })).toThrow(/hparams.lr: expected a number, found "0.1" \(string\)/);
    expect(() => writer.hparams(EXPERIMENT, { hidden: 128 })).toThrow(/hparams.hidden: expected one of the experiment's columns \(lr, cell, keep_best\)/);
    expect(() => writer.hparamsEnd("done" as "success")).toThrow(/status: expected unknown, success, failure, running, found "done"/);
  });
});
