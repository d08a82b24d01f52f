import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import simdUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import threadedSimdUrl from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

/**
 * Picks the engine for the page: WebAssembly (the .wasm binaries are copied into the build
 * and named here, so nothing is fetched from a CDN), or the plain JavaScript cpu backend
 * when WebAssembly cannot start. Returns the backend's name.
 */
export async function startBackend(): Promise<string> {
  setWasmPaths({
    "tfjs-backend-wasm.wasm": wasmUrl,
    "tfjs-backend-wasm-simd.wasm": simdUrl,
    "tfjs-backend-wasm-threaded-simd.wasm": threadedSimdUrl,
  });
  try {
    if (await tf.setBackend("wasm")) return "wasm";
  } catch (error) {
    console.warn("wasm backend failed to start, using cpu", error);
  }
  await tf.setBackend("cpu");
  return "cpu";
}
