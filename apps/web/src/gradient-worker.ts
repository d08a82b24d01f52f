import { serveWebWorker, type WorkerScopeLike } from "@mnist/train";
import { configureBackends } from "./backend.js";

// One gradient worker of the training worker's pool (webWorkers() in training-worker.ts).
serveWebWorker(self as unknown as WorkerScopeLike, async () => configureBackends());
