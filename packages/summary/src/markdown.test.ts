import { describe, expect, it } from "vitest";
import { markdownTable } from "./markdown.js";

describe("markdownTable", () => {
  it("lists entries as rows, JSON for non-strings, escaping pipes and line breaks", () => {
    expect(markdownTable({ learningRate: 0.001, cell: "lstm", layers: [128, 10], note: "a|b\nc" })).toBe(
      [
        "| name | value |",
        "| --- | --- |",
        "| learningRate | 0.001 |",
        "| cell | lstm |",
        "| layers | [128,10] |",
        "| note | a\\|b<br>c |",
      ].join("\n"),
    );
    expect(markdownTable({}, ["key", "setting"])).toBe("| key | setting |\n| --- | --- |");
  });
});
