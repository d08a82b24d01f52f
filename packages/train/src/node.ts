export { checkpointModelFolder, checkpointWriter, latestCheckpoint, readCheckpoint } from "./checkpoint.js";
export { errorReply, RequestChannel, type ChannelEndpoint, type ErrorReply } from "./channel.js";
export { workerThreads, type WorkerThreadsOptions } from "./worker-threads.js";
export { holdConsoleOutput, type EngineOutput } from "./engine-output.js";
