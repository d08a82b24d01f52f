import { describe, expect, it } from "vitest";
import { eventFileName } from "./filename.js";

describe("eventFileName", () => {
  it("zero-pads the seconds to 10 digits and keeps the name a single path segment", () => {
    expect(eventFileName({ seconds: 99.9, host: "a/b", pid: 42, counter: 3, suffix: ".v2" })).toBe("events.out.tfevents.0000000099.a_b.42.3.v2");
    expect(eventFileName()).toMatch(/^events\.out\.tfevents\.\d{10}\.localhost\.0\.0$/);
  });
});
