import { mkdir, open, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { eventFileName } from "./filename.js";
import { SummaryWriter, type SummaryWriterOptions } from "./writer.js";

/** Options of createFileWriter: the writer's own, plus how to name the file. */
export interface FileWriterOptions extends SummaryWriterOptions {
  /** Appended to the file name after the counter, e.g. ".v2"; default "". */
  filenameSuffix: string;
}

/** A SummaryWriter that appends to one event file. */
export class FileSummaryWriter extends SummaryWriter {
  constructor(
    /** The event file this writer appends to. */
    readonly path: string,
    private readonly file: FileHandle,
    options: Partial<SummaryWriterOptions>,
  ) {
    let size = 0;
    super(async (chunk) => {
      try {
        // Positional writes of a whole chunk; the loop only matters for the
        // short writes a filling disk can cause.
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await file.write(chunk, done, chunk.length - done, size + done);
          done += bytesWritten;
        }
        size += chunk.length;
      } catch (cause) {
        // Cut a partial chunk off so the file ends on a whole record and stays readable to the end.
        await file.truncate(size).catch(() => undefined);
        throw new Error(`${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
    }, options);
    openWriters.add(this);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      if (openWriters.delete(this)) await this.file.close();
    }
  }
}

// Writers whose buffers are written out when the event loop runs dry, so a
// script that forgets close() still gets every record on disk. Flushed, not
// closed: a later beforeExit handler may still record summaries.
const openWriters = new Set<FileSummaryWriter>();
let exitHookInstalled = false;
// Per-process count of files opened: the last number in the file name.
let filesOpened = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("beforeExit", () => {
    for (const writer of openWriters) void writer.flush().catch((error: Error) => process.emitWarning(error));
  });
}

/**
 * Creates `logdir` if needed and a new event file in it,
 * events.out.tfevents.<seconds>.<host>.<pid>.<counter><suffix>, holding the
 * file-version record once this resolves. The file is never replaced or
 * renamed: TensorBoard reads it while it grows, and appending whole records
 * keeps every prefix of it valid, so no temp-file-and-rename is needed.
 */
export async function createFileWriter(
  logdir: string,
  options: Partial<FileWriterOptions> = {},
): Promise<FileSummaryWriter> {
  const { filenameSuffix = "", ...writerOptions } = options;
  await mkdir(logdir, { recursive: true });
  const seconds = Math.floor(writerOptions.clock ? writerOptions.clock() : Date.now() / 1000);
  for (;;) {
    const path = join(logdir, eventFileName({ seconds, host: hostname(), pid: process.pid, counter: filesOpened++, suffix: filenameSuffix }));
    let file: FileHandle;
    try {
      // "wx" fails if the name is taken (say, by a process that reused our pid), instead of interleaving two writers.
      file = await open(path, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    installExitHook();
    const writer = new FileSummaryWriter(path, file, writerOptions);
    try {
      await writer.flush();
    } catch (error) {
      // The caller gets this error and no writer, so nothing may be left for the exit hook to report again.
      await writer.close().catch(() => undefined);
      throw error;
    }
    return writer;
  }
}
