import { SummaryValueError, SummaryWriteError, WriterClosedError } from "./errors.js";
import { encodeFileVersionEvent, encodeGraphEvent, encodeSummaryEvent, type SummaryContent } from "./event.js";
import { encodeGraphDef, type GraphNode } from "./graph.js";
import { computeHistogram } from "./histogram.js";
import {
  checkHParams,
  encodeExperiment,
  encodeSessionEnd,
  encodeSessionStart,
  HPARAMS_TAGS,
  type HParamsExperiment,
  type HParamValue,
  type SessionStatus,
} from "./hparams.js";
import { encodeImage, type SummaryImage } from "./image.js";
import { frameRecord } from "./record.js";

/** Receives whole framed records, in order; the writer awaits it before handing over the next chunk. */
export type SummarySink = (chunk: Uint8Array) => void | Promise<void>;

/** How a SummaryWriter buffers and stamps events. */
export interface SummaryWriterOptions {
  /** Longest time (ms) a record waits in memory before it goes to the sink; 0 hands each over at once; default 5000. */
  flushMillis: number;
  /** Buffered bytes that send the buffer to the sink without waiting for the timer; default 1 MiB. */
  maxBufferBytes: number;
  /** Wall-clock time stamped on each event, in seconds since the epoch; default Date.now() / 1000. */
  clock: () => number;
}

const DEFAULTS: SummaryWriterOptions = {
  flushMillis: 5000,
  maxBufferBytes: 1 << 20,
  clock: () => Date.now() / 1000,
};

/**
 * Encodes summaries as TensorBoard Events and hands them, TFRecord-framed, to
 * a sink: a file (see "@mnist/summary/node"), a Blob being assembled in a
 * browser, a network upload. The first record is the file-version event.
 *
 * Recording is synchronous and cheap (encoding only); storage happens later,
 * in whole records, when the timer fires, the buffer fills, or on
 * flush()/close(). So a crash loses at most the records of the last interval
 * and never leaves a partial record in front of complete ones.
 */
export class SummaryWriter {
  private readonly options: SummaryWriterOptions;
  private records: Uint8Array[] = [];
  private bufferedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  // Sink calls run one after another on this chain, which never rejects:
  // a failure is kept in `failure` and reported by the next call.
  private delivering: Promise<void> = Promise.resolve();
  private failure: SummaryWriteError | undefined;
  private closing: Promise<void> | undefined;
  // The kind each tag was first written as; its first value carries the metadata.
  private readonly kinds = new Map<string, SummaryContent["kind"]>();

  constructor(
    private readonly sink: SummarySink,
    options: Partial<SummaryWriterOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.append(encodeFileVersionEvent(this.options.clock()));
  }

  /** Records one point of the scalar series `tag` (stored as float32, like TensorFlow's). */
  scalar(tag: string, value: number, step: number): void {
    this.check(tag, step);
    if (typeof value !== "number") {
      throw new SummaryValueError(tag, "value", "a number", typeof value, "convert tensors first, e.g. with (await t.data())[0]");
    }
    this.emit(tag, step, { kind: "scalar", value });
  }

  /** Records the distribution of `values` (NaN and ±Infinity are left out). */
  histogram(tag: string, values: ArrayLike<number>, step: number): void {
    this.check(tag, step);
    this.emit(tag, step, { kind: "histogram", histogram: computeHistogram(values) });
  }

  /** Records an image, PNG-encoded; see imageGrid() to tile many small images into one. */
  image(tag: string, image: SummaryImage, step: number): void {
    this.check(tag, step);
    this.emit(tag, step, { kind: "image", ...encodeImage(tag, image) });
  }

  /** Records markdown, shown rendered in TensorBoard's Text dashboard. */
  text(tag: string, markdown: string, step: number): void {
    this.check(tag, step);
    if (typeof markdown !== "string") {
      throw new SummaryValueError(tag, "markdown", "a string", typeof markdown, "pass the text itself");
    }
    this.emit(tag, step, { kind: "text", text: markdown });
  }

  /** Records the computation graph shown in TensorBoard's Graphs dashboard (the last one written wins). */
  graph(nodes: readonly GraphNode[]): void {
    this.check("graph", 0);
    this.append(encodeGraphEvent(this.options.clock(), encodeGraphDef(nodes)));
  }

  /**
   * Records this run's hyper-parameters for the HParams dashboard: the table's columns
   * (`experiment`, the same for every run compared) and this run's `values`, one per column
   * at most. Metric columns take the last value of the run's scalar series of that tag.
   */
  hparams(experiment: HParamsExperiment, values: Readonly<Record<string, HParamValue>>): void {
    this.check(HPARAMS_TAGS.sessionStart, 0);
    checkHParams(experiment, values);
    const now = this.options.clock();
    this.emit(HPARAMS_TAGS.experiment, 0, { kind: "hparams", pluginData: encodeExperiment(experiment, now) });
    this.emit(HPARAMS_TAGS.sessionStart, 0, { kind: "hparams", pluginData: encodeSessionStart(values, now) });
  }

  /** Records how the run of hparams() ended: the status column of the HParams table. */
  hparamsEnd(status: SessionStatus): void {
    this.check(HPARAMS_TAGS.sessionEnd, 0);
    this.emit(HPARAMS_TAGS.sessionEnd, 0, { kind: "hparams", pluginData: encodeSessionEnd(status, this.options.clock()) });
  }

  /** Hands every buffered record to the sink and waits until it has taken them. */
  async flush(): Promise<void> {
    this.handOff();
    await this.delivering;
    if (this.failure) throw this.failure;
  }

  /** Flushes, then refuses further records. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.flush();
    return this.closing;
  }

  private check(tag: string, step: number): void {
    if (this.closing) throw new WriterClosedError(tag);
    if (this.failure) throw this.failure;
    if (typeof tag !== "string" || tag.length === 0) {
      throw new SummaryValueError(String(tag), "tag", "a non-empty string", JSON.stringify(tag) ?? String(tag), "name the series, e.g. \"train/loss\"");
    }
    if (!Number.isSafeInteger(step)) {
      throw new SummaryValueError(tag, "step", "a safe integer", String(step), "pass the training step or sample count");
    }
  }

  private emit(tag: string, step: number, content: SummaryContent): void {
    const kind = this.kinds.get(tag);
    if (kind !== undefined && kind !== content.kind) {
      // TensorBoard files a tag under the plugin of its first value and would
      // fail to read the rest.
      throw new SummaryValueError(tag, "kind", kind, content.kind, "use a different tag for each kind of summary");
    }
    this.kinds.set(tag, content.kind);
    this.append(encodeSummaryEvent(this.options.clock(), step, tag, content, kind === undefined));
  }

  private append(event: Uint8Array): void {
    const record = frameRecord(event);
    this.records.push(record);
    this.bufferedBytes += record.length;
    if (this.options.flushMillis <= 0 || this.bufferedBytes >= this.options.maxBufferBytes) {
      this.handOff();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.handOff(), this.options.flushMillis);
      // In Node, a pending flush alone should not keep the process alive; close() or
      // the Node entry's exit hook writes what is left.
      if (typeof this.timer === "object" && "unref" in this.timer) this.timer.unref();
    }
  }

  private handOff(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.records.length === 0) return;
    const chunk = concat(this.records, this.bufferedBytes);
    this.records = [];
    this.bufferedBytes = 0;
    this.delivering = this.delivering.then(() => this.deliver(chunk));
  }

  private async deliver(chunk: Uint8Array): Promise<void> {
    if (this.failure) return;
    try {
      await this.sink(chunk);
    } catch (cause) {
      this.failure = new SummaryWriteError(chunk.length, cause);
    }
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
