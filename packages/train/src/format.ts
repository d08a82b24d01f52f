// Python's "{:.Nf}".format(x): the exact binary value rounded half to even.
// Number.prototype.toFixed rounds exact ties away from zero instead, so
// 0.015625 would print as 0.01563 where the tutorial prints 0.01562.
function formatFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Math.abs(value) >= 1e21) {
    // toFixed switches to exponent notation here; such doubles are integers.
    return `${BigInt(value).toString()}.${"0".repeat(digits)}`;
  }
  const rounded = value.toFixed(digits);
  // 100 fraction digits hold the exact expansion of any double whose tie at
  // `digits` places could matter; a tie is "5" followed only by zeros.
  const exact = Math.abs(value).toFixed(100);
  const fraction = exact.slice(exact.indexOf(".") + 1);
  const tail = fraction.slice(digits);
  if (!/^50*$/.test(tail)) return rounded;
  const truncated = exact.slice(0, exact.indexOf(".") + 1 + digits).replace(/\.$/, "");
  const lastDigit = Number(truncated.at(-1));
  if (lastDigit % 2 === 1) return rounded;
  return value < 0 ? `-${truncated}` : truncated;
}

/** The tutorial's progress line for the minibatch that ended after `samples` training images. */
export function formatIterationLine(samples: number, loss: number, accuracy: number): string {
  return `Iteration ${samples}, Minibatch Loss= ${formatFixed(loss, 6)}, Training Accuracy= ${formatFixed(accuracy, 5)}`;
}

/** One line per validation during training, in the tutorial's style: `Epoch 3, Validation Loss= 0.061234, Validation Accuracy= 0.98220`. */
export function formatValidationLine(epoch: number, loss: number, accuracy: number): string {
  return `Epoch ${epoch}, Validation Loss= ${formatFixed(loss, 6)}, Validation Accuracy= ${formatFixed(accuracy, 5)}`;
}

/** The tutorial's final line: accuracy over the whole test split. */
export function formatTestLine(accuracy: number): string {
  return `Testing Accuracy= ${formatFixed(accuracy, 5)}`;
}

/** The tutorial's line between training and testing. */
export const OPTIMIZATION_FINISHED = "Optimization Finished!";
