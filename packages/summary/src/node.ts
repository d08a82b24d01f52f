export { createFileWriter, type FileSummaryWriter, type FileWriterOptions } from "./file-writer.js";
