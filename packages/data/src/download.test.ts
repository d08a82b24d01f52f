import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MNIST_SHA256, downloadMnist } from "./download.js";
import { MnistDownloadError } from "./errors.js";
import { encodeIdx } from "./idx.js";
import { defaultMnistDir, loadMnist } from "./load.js";
import { MNIST_FILES, type MnistFileName } from "./mnist.js";
import { realTestSlice } from "./mnist-slice.test-support.js";

const NAMES = Object.values(MNIST_FILES);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let server: Server;
let origin: string;
let scratch: string;
let plain: Record<MnistFileName, Uint8Array>;
let served: Record<MnistFileName, Uint8Array>;
let checksums: Record<MnistFileName, string>;
const requests: string[] = [];

function byName<T>(value: (name: MnistFileName) => T): Record<MnistFileName, T> {
  return Object.fromEntries(NAMES.map((name) => [name, value(name)])) as Record<MnistFileName, T>;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "mnist-data-download-"));
  const { images, labels } = await realTestSlice(3);
  const content = (name: MnistFileName) => encodeIdx(name.includes("images") ? images : labels);
  plain = byName((name) => content(name));
  served = byName((name) => new Uint8Array(gzipSync(plain[name])));
  checksums = byName((name) => sha256(plain[name]));

  // /good/ serves the fixtures, /tampered/ changes one pixel of the test images, /cut/ hangs up
  // halfway through the test labels, /encoded/ sends Content-Encoding: gzip; anything else is a 404.
  server = createServer((request, response) => {
    const url = request.url ?? "";
    requests.push(url);
    const [, mode, file] = url.split("/");
    const name = file?.replace(/\.gz$/, "") as MnistFileName;
    if (!NAMES.includes(name) || !file?.endsWith(".gz") || !["good", "tampered", "cut", "encoded"].includes(mode ?? "")) {
      response.writeHead(404).end("not found");
      return;
    }
    let body = served[name];
    if (mode === "tampered" && name === MNIST_FILES.testImages) {
      const changed = plain[name].slice();
      changed[500] = changed[500]! ^ 0xff;
      body = gzipSync(changed);
    }
    const encoding = mode === "encoded" ? { "content-encoding": "gzip" } : {};
    response.writeHead(200, { "content-type": "application/gzip", "content-length": body.length, ...encoding });
    if (mode === "cut" && name === MNIST_FILES.testLabels) {
      response.write(body.subarray(0, body.length >> 1), () => request.socket.destroy());
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  return mkdtemp(join(scratch, "dir-"));
}

async function failure(run: Promise<unknown>): Promise<MnistDownloadError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MnistDownloadError);
  return error as MnistDownloadError;
}

describe("downloadMnist", () => {
  it("fetches, verifies and stores the four .gz files, which then load", async () => {
    const dir = await freshDir();
    await downloadMnist(dir, { baseUrl: `${origin}/good`, checksums });
    expect((await readdir(dir)).sort()).toEqual(NAMES.map((name) => `${name}.gz`).sort());
    for (const name of NAMES) expect(new Uint8Array(await readFile(join(dir, `${name}.gz`)))).toEqual(new Uint8Array(served[name]));
    const mnist = await loadMnist(dir);
    expect(mnist.train.count).toBe(3);
    expect(mnist.test.labels).toEqual(plain[MNIST_FILES.testLabels].subarray(8));
  });

  it("skips files already present and valid, compressed or not, and replaces invalid ones", async () => {
    const dir = await freshDir();
    await writeFile(join(dir, MNIST_FILES.trainImages), plain[MNIST_FILES.trainImages]);
    await writeFile(join(dir, `${MNIST_FILES.trainLabels}.gz`), served[MNIST_FILES.trainLabels]);
    await writeFile(join(dir, `${MNIST_FILES.testImages}.gz`), "damaged");
    const before = requests.length;
    await downloadMnist(dir, { baseUrl: `${origin}/good/`, checksums });
    expect(requests.slice(before).sort()).toEqual([`/good/${MNIST_FILES.testImages}.gz`, `/good/${MNIST_FILES.testLabels}.gz`]);
    expect(new Uint8Array(await readFile(join(dir, `${MNIST_FILES.testImages}.gz`)))).toEqual(new Uint8Array(served[MNIST_FILES.testImages]));

    const again = requests.length;
    await downloadMnist(dir, { baseUrl: `${origin}/good/`, checksums });
    expect(requests.length).toBe(again);
  });

  it("rejects a file whose content does not match its checksum, leaving nothing behind and good files untouched", async () => {
    const dir = await freshDir();
    const kept = join(dir, `${MNIST_FILES.trainImages}.gz`);
    await writeFile(kept, served[MNIST_FILES.trainImages]);
    const keptStat = await stat(kept);
    const error = await failure(downloadMnist(dir, { baseUrl: `${origin}/tampered`, checksums }));
    expect(error.url).toBe(`${origin}/tampered/${MNIST_FILES.testImages}.gz`);
    expect(error.expected).toContain(checksums[MNIST_FILES.testImages]);
    expect(error.message).toContain("SHA-256");
    const files = await readdir(dir);
    expect(files).not.toContain(`${MNIST_FILES.testImages}.gz`);
    expect(files.filter((file) => file.endsWith(".tmp"))).toEqual([]);
    expect((await stat(kept)).mtimeMs).toBe(keptStat.mtimeMs);
    expect(new Uint8Array(await readFile(kept))).toEqual(new Uint8Array(served[MNIST_FILES.trainImages]));
  });

  it("reports an HTTP 404 and writes nothing", async () => {
    const dir = await freshDir();
    const error = await failure(downloadMnist(dir, { baseUrl: `${origin}/nowhere/`, checksums }));
    expect(error.actual).toContain("HTTP 404");
    expect(error.message).toContain(`${origin}/nowhere/${MNIST_FILES.trainImages}.gz`);
    expect(await readdir(dir)).toEqual([]);
  });

  it("reports a connection closed mid-body and writes nothing for that file", async () => {
    const dir = await freshDir();
    const error = await failure(downloadMnist(dir, { baseUrl: `${origin}/cut/`, checksums }));
    expect(error.url).toBe(`${origin}/cut/${MNIST_FILES.testLabels}.gz`);
    expect(error.message).toContain("ended early");
    const files = await readdir(dir);
    expect(files).not.toContain(`${MNIST_FILES.testLabels}.gz`);
    expect(files.filter((file) => file.endsWith(".tmp"))).toEqual([]);
  });

  it("stores a file that fetch inflated (Content-Encoding: gzip) uncompressed, and it loads", async () => {
    const dir = await freshDir();
    await downloadMnist(dir, { baseUrl: `${origin}/encoded/`, checksums });
    expect((await readdir(dir)).sort()).toEqual([...NAMES].sort());
    expect((await loadMnist(dir)).test.count).toBe(3);
  });

  it("stops reading a response longer than maxBytes", async () => {
    const dir = await freshDir();
    const error = await failure(downloadMnist(dir, { baseUrl: `${origin}/good/`, checksums, maxBytes: 100 }));
    expect(error.expected).toBe("at most 100 bytes");
    expect(await readdir(dir)).toEqual([]);
  });

  it("uses a given fetch and reports its network errors", async () => {
    const dir = await freshDir();
    const offline: typeof fetch = () => Promise.reject(new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND") }));
    const error = await failure(downloadMnist(dir, { fetch: offline, checksums }));
    expect(error.url).toMatch(/^https:\/\/storage\.googleapis\.com\/cvdf-datasets\/mnist\/train-images-idx3-ubyte\.gz$/);
    expect(error.actual).toContain("ENOTFOUND");
  });

  it("has default checksums that match the real MNIST files in mnist-data", async () => {
    const dir = defaultMnistDir()!;
    for (const name of NAMES) expect(sha256(await readFile(join(dir, name)))).toBe(MNIST_SHA256[name]);
  });
});
