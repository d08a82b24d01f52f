import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import simdUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import threadedSimdUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

/**
 * Makes the wasm backend loadable in this page or worker: the .wasm binaries are copied into
 * the build and named here, so nothing is fetched from a CDN. Its own threads stay off: each of
 * the page's workers is one core of the gradient pool (as each Node worker thread is), and a
 * cross-origin isolated page would otherwise give every worker a second thread pool on the same cores.
 */
export function configureBackends(): void {
  // setWasmPaths() wants all three named, the threaded one too, though it is never loaded.
  setWasmPaths({ "tfjs-backend-wasm.wasm": wasmUrl, "tfjs-backend-wasm-simd.wasm": simdUrl, "tfjs-backend-wasm-threaded-simd.wasm": threadedSimdUrl });
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
}

/**
 * Picks the engine: WebAssembly, or the plain JavaScript cpu backend when WebAssembly cannot
 * start. Returns the backend's name.
 */
export async function startBackend(): Promise<string> {
  configureBackends();
  try {
    if (await tf.setBackend("wasm")) return "wasm";
  } catch (error) {
    console.warn("wasm backend failed to start, using cpu", error);
  }
  await tf.setBackend("cpu");
  return "cpu";
}
