import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { SummaryValueError } from "./errors.js";

// The HParams dashboard reads three summaries (plugin "hparams", content an HParamsPluginData
// per tensorboard/plugins/hparams/{plugin_data,api}.proto): the experiment (the columns),
// and each run's session start (its values) and session end (its status). The metric columns
// are ordinary scalar series of the same run, named in the experiment.

/** Tags the HParams plugin looks for. */
export const HPARAMS_TAGS = {
  experiment: "_hparams_/experiment",
  sessionStart: "_hparams_/session_start_info",
  sessionEnd: "_hparams_/session_end_info",
} as const;

/** A hyper-parameter's value in the table. */
export type HParamValue = string | number | boolean;

/** One hyper-parameter column. */
export interface HParamColumn {
  name: string;
  type: "string" | "bool" | "number";
  /** The values it can take, offered as filters; default: any. */
  values?: readonly HParamValue[];
  description?: string;
}

/** One metric column: the last value of scalar series `tag` in the run. */
export interface MetricColumn {
  tag: string;
  description?: string;
  /** Which data the metric is measured on, for the dashboard's grouping; default unset. */
  dataset?: "training" | "validation";
}

/** The columns of the HParams table: the same for every run of an experiment. */
export interface HParamsExperiment {
  hparams: readonly HParamColumn[];
  metrics: readonly MetricColumn[];
}

/** How a run ended, as the HParams table shows it. */
export type SessionStatus = "unknown" | "success" | "failure" | "running";

const DATA_TYPE = { string: 1, bool: 2, number: 3 } as const;
const DATASET_TYPE = { training: 1, validation: 2 } as const;
const STATUS: Record<SessionStatus, number> = { unknown: 0, success: 1, failure: 2, running: 3 };

/** HParamsPluginData{experiment}. */
export function encodeExperiment(experiment: HParamsExperiment, timeCreated: number): Uint8Array {
  const w = new BinaryWriter();
  w.tag(2, WireType.LengthDelimited).fork(); // HParamsPluginData.experiment
  w.tag(3, WireType.Bit64).double(timeCreated);
  for (const column of experiment.hparams) {
    w.tag(4, WireType.LengthDelimited).fork(); // Experiment.hparam_infos
    w.tag(1, WireType.LengthDelimited).string(column.name);
    if (column.description) w.tag(3, WireType.LengthDelimited).string(column.description);
    w.tag(4, WireType.Varint).int32(DATA_TYPE[column.type]);
    if (column.values) {
      w.tag(5, WireType.LengthDelimited).fork(); // domain_discrete: google.protobuf.ListValue
      for (const value of column.values) writeValue(w.tag(1, WireType.LengthDelimited), value);
      w.join();
    }
    w.join();
  }
  for (const metric of experiment.metrics) {
    w.tag(5, WireType.LengthDelimited).fork(); // Experiment.metric_infos
    w.tag(1, WireType.LengthDelimited).fork(); // MetricName{group "" (this run), tag}
    w.tag(2, WireType.LengthDelimited).string(metric.tag);
    w.join();
    if (metric.description) w.tag(4, WireType.LengthDelimited).string(metric.description);
    if (metric.dataset) w.tag(5, WireType.Varint).int32(DATASET_TYPE[metric.dataset]);
    w.join();
  }
  w.join();
  return w.finish();
}

/** HParamsPluginData{session_start_info}: the run's values, keys in sorted order. */
export function encodeSessionStart(values: Readonly<Record<string, HParamValue>>, startTime: number): Uint8Array {
  const w = new BinaryWriter();
  w.tag(3, WireType.LengthDelimited).fork(); // HParamsPluginData.session_start_info
  for (const name of Object.keys(values).sort()) {
    w.tag(1, WireType.LengthDelimited).fork(); // hparams map entry
    w.tag(1, WireType.LengthDelimited).string(name);
    writeValue(w.tag(2, WireType.LengthDelimited), values[name]!);
    w.join();
  }
  w.tag(5, WireType.Bit64).double(startTime);
  w.join();
  return w.finish();
}

/** HParamsPluginData{session_end_info}. */
export function encodeSessionEnd(status: SessionStatus, endTime: number): Uint8Array {
  if (!Object.hasOwn(STATUS, status)) {
    throw new SummaryValueError(HPARAMS_TAGS.sessionEnd, "status", Object.keys(STATUS).join(", "), JSON.stringify(status), "say how the run ended, e.g. \"success\"");
  }
  const w = new BinaryWriter();
  w.tag(4, WireType.LengthDelimited).fork(); // HParamsPluginData.session_end_info
  if (STATUS[status] !== 0) w.tag(1, WireType.Varint).int32(STATUS[status]);
  w.tag(2, WireType.Bit64).double(endTime);
  w.join();
  return w.finish();
}

/** Checks `values` against the experiment's columns: every value has a column of its type. */
export function checkHParams(experiment: HParamsExperiment, values: Readonly<Record<string, HParamValue>>): void {
  const columns = new Map(experiment.hparams.map((column) => [column.name, column]));
  for (const [name, value] of Object.entries(values)) {
    const column = columns.get(name);
    if (column === undefined) {
      throw new SummaryValueError(HPARAMS_TAGS.sessionStart, `hparams.${name}`, `one of the experiment's columns (${[...columns.keys()].join(", ")})`, JSON.stringify(name), "add a column for it to the experiment");
    }
    const type = typeof value === "boolean" ? "bool" : typeof value;
    if (type !== column.type) {
      throw new SummaryValueError(HPARAMS_TAGS.sessionStart, `hparams.${name}`, `a ${column.type}`, `${JSON.stringify(value)} (${type})`, "pass the value in the column's type");
    }
  }
}

/** A google.protobuf.Value, its tag already written. */
function writeValue(w: BinaryWriter, value: HParamValue): void {
  w.fork();
  if (typeof value === "number") w.tag(2, WireType.Bit64).double(value);
  else if (typeof value === "string") w.tag(3, WireType.LengthDelimited).string(value);
  else w.tag(4, WireType.Varint).bool(value);
  w.join();
}
