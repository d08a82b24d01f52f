/** A value handed to a SummaryWriter cannot be encoded as asked. */
export class SummaryValueError extends Error {
  override name = "SummaryValueError";
  constructor(
    /** Summary tag the value was meant for. */
    readonly tag: string,
    /** The argument or property that is wrong, e.g. "step" or "image.pixels.length". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    hint: string,
  ) {
    super(`summary "${tag}": ${field}: expected ${expected}, found ${actual}. Hint: ${hint}`);
  }
}

/** A write was attempted after close(). */
export class WriterClosedError extends Error {
  override name = "WriterClosedError";
  constructor(
    /** Summary tag of the rejected write. */
    readonly tag: string,
  ) {
    super(
      `summary "${tag}": the writer is closed, nothing was written. ` +
        "Hint: write every summary before awaiting close(), or create a new writer.",
    );
  }
}

/**
 * The sink failed to store a chunk. The writer stops for good: appending after
 * a partial write would put records behind a broken one, where readers never reach them.
 */
export class SummaryWriteError extends Error {
  override name = "SummaryWriteError";
  constructor(
    /** Size of the chunk that could not be stored. */
    readonly bytes: number,
    cause: unknown,
  ) {
    super(
      `could not store ${bytes} bytes of summaries: ${String(cause instanceof Error ? cause.message : cause)}. ` +
        "Hint: check free space and permissions; the writer accepts no more records, create a new one to continue.",
      { cause },
    );
  }
}

/** A graph handed to SummaryWriter.graph() is not one TensorBoard can draw. */
export class GraphDefError extends Error {
  override name = "GraphDefError";
  constructor(
    /** Name of the node at fault. */
    readonly node: string,
    /** The property that is wrong, e.g. "inputs". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    hint: string,
  ) {
    super(`graph node "${node}": ${field}: expected ${expected}, found ${actual}. Hint: ${hint}`);
  }
}
