import type { Answers, Command, FromWorker, Report } from "./training-protocol.js";

/**
 * The page's side of the training worker: commands as promises of their answers, and the
 * worker's reports (steps, log lines, weights, evaluation progress) to `onReport`.
 */
export class TrainingClient {
  private readonly worker = new Worker(new URL("./training-worker.ts", import.meta.url), { type: "module" });
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;

  constructor(onReport: (report: Report) => void, onCrash: (message: string) => void) {
    this.worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if ("report" in message) {
        onReport(message.report);
        return;
      }
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) pending?.resolve(message.value);
      else pending?.reject(new Error(message.message));
    });
    this.worker.addEventListener("error", (event) => {
      event.preventDefault();
      const reason = `the training worker failed: ${event.message}`;
      for (const pending of this.pending.values()) pending.reject(new Error(reason));
      this.pending.clear();
      onCrash(reason);
    });
  }

  ask<C extends Command>(command: C, transfer: Transferable[] = []): Promise<Answers[C["kind"]]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, ...command }, transfer);
    });
  }
}
