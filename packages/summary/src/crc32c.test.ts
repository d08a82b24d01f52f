import { describe, expect, it } from "vitest";
import { crc32c, maskedCrc32c } from "./crc32c.js";

describe("crc32c", () => {
  // Check values published with CRC-32C: the "123456789" check value, and
  // RFC 3720 (iSCSI) appendix B.4's 32-byte vectors.
  it("matches the published check values", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("is unsigned and 0 for no bytes", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array([0xff]))).toBeGreaterThan(0x7fffffff);
  });

  it("masks like TFRecord: rotate right 15, add 0xa282ead8", () => {
    // The length bytes of TensorBoard's worked example record (26), CRC and mask from its serializer.
    const length = new Uint8Array([0x1a, 0, 0, 0, 0, 0, 0, 0]);
    expect(crc32c(length)).toBe(0xd81d45aa);
    expect(maskedCrc32c(length)).toBe(0x2dd89b12);
  });
});
