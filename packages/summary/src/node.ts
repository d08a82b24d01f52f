export { createFileWriter, type FileSummaryWriter, type FileWriterOptions } from "./file-writer.js";
export { writeProjector } from "./projector-files.js";
