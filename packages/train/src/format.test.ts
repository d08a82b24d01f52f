import { describe, expect, it } from "vitest";
import { formatIterationLine, formatTestLine, formatValidationLine } from "./format.js";

describe("tutorial lines", () => {
  it("reproduces the tutorial's example lines", () => {
    // Losses reach us as float32; 1.301216 is what Python prints for this one.
    const loss = Math.fround(1.3012158);
    expect(formatIterationLine(1280, loss, 71 / 128)).toBe(
      "Iteration 1280, Minibatch Loss= 1.301216, Training Accuracy= 0.55469",
    );
    expect(formatTestLine(0.9726)).toBe("Testing Accuracy= 0.97260");
  });

  // Expected strings printed by CPython 3 "{:.6f}" / "{:.5f}" for the same doubles.
  it.each([
    [0.015625, "0.015625", "0.01562"],
    [0.546875, "0.546875", "0.54688"],
    [0.5546875, "0.554688", "0.55469"],
    [0.3125, "0.312500", "0.31250"],
    [1.0000005, "1.000001", "1.00000"],
    [5e-7, "0.000000", "0.00000"],
    [123456.0000005, "123456.000001", "123456.00000"],
    [1e22, "10000000000000000000000.000000", "10000000000000000000000.00000"],
  ])("formats %s like Python", (value, sixDigits, fiveDigits) => {
    expect(formatIterationLine(0, value, value)).toBe(
      `Iteration 0, Minibatch Loss= ${sixDigits}, Training Accuracy= ${fiveDigits}`,
    );
  });

  it("rounds exact ties to even where toFixed would round up", () => {
    // 2/128: a batch-of-128 accuracy that is an exact tie at five places.
    expect((2 / 128).toFixed(5)).toBe("0.01563");
    expect(formatTestLine(2 / 128)).toBe("Testing Accuracy= 0.01562");
    expect(formatTestLine(-2 / 128)).toBe("Testing Accuracy= -0.01562");
    expect(formatTestLine(6 / 128)).toBe("Testing Accuracy= 0.04688");
  });

  it("prints a validation line with the loss to six places and the accuracy to five, ties to even", () => {
    expect(formatValidationLine(3, 0.0612344, 0.9822)).toBe("Epoch 3, Validation Loss= 0.061234, Validation Accuracy= 0.98220");
    // 4911 of 5000 images; 0.015625 is an exact tie at five places.
    expect(formatValidationLine(12, 0.015625, 4911 / 5000)).toBe("Epoch 12, Validation Loss= 0.015625, Validation Accuracy= 0.98220");
    expect(formatValidationLine(0, Number.NaN, 2 / 128)).toBe("Epoch 0, Validation Loss= nan, Validation Accuracy= 0.01562");
  });

  it("prints non-finite values as Python does", () => {
    expect(formatIterationLine(128, Number.NaN, Number.POSITIVE_INFINITY)).toBe(
      "Iteration 128, Minibatch Loss= nan, Training Accuracy= inf",
    );
  });
});
