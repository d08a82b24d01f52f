import type { MnistSplit } from "@mnist/data";
import { checkpointWriter, readCheckpoint } from "./checkpoint.js";
import { withBudget, type ResumeBudget } from "./config.js";
import { Trainer, type TrainerOptions } from "./trainer.js";

/**
 * The resume path as an app takes it: read the checkpoint in `dir`, then make a Trainer of its
 * model, config (with a new budget, if any) and state. The caller disposes trainer.model.
 */
export async function resumeTrainer(
  dir: string,
  train: MnistSplit,
  options: Omit<TrainerOptions, "restored"> = {},
  budget: ResumeBudget = {},
): Promise<Trainer> {
  const { model, config, state } = await readCheckpoint(dir);
  try {
    return new Trainer(model, train, withBudget(config, budget), { ...options, restored: state });
  } catch (error) {
    model.dispose();
    state.best?.model.dispose();
    throw error;
  }
}

/** trainer.saveCheckpoint() into the folder `dir`. */
export function saveInto(trainer: Trainer, dir: string): Promise<void> {
  return trainer.saveCheckpoint(checkpointWriter(dir));
}
