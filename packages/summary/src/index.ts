export { crc32c, maskedCrc32c } from "./crc32c.js";
export { frameRecord } from "./record.js";
export { SummaryWriter, type SummarySink, type SummaryWriterOptions } from "./writer.js";
export { imageGrid, type SummaryImage } from "./image.js";
export { markdownTable } from "./markdown.js";
export { eventFileName, type EventFileNameParts } from "./filename.js";
export { SummaryValueError, SummaryWriteError, WriterClosedError } from "./errors.js";
