export { MnistDownloadError, MnistNotFoundError } from "./errors.js";
export { readIdxFile } from "./read-idx-file.js";
export { readPngFile } from "./read-png-file.js";
export { defaultMnistDir, loadMnist } from "./load.js";
export { DEFAULT_MNIST_BASE_URL, MNIST_SHA256, downloadMnist, type DownloadOptions } from "./download.js";
