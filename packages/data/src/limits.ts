import { InputTooLargeError } from "./errors.js";

/**
 * Default cap on one file's decoded size: 64 MB holds every MNIST-shaped data set (the training
 * images are 47 MB) and any photo of a digit, while keeping a hostile file's cost near a few
 * hundred MB instead of gigabytes.
 */
export const DEFAULT_MAX_BYTES = 64_000_000;

/** Resource limits shared by every decoder of user files (IDX, gzip, PNG). */
export interface DecodeLimits {
  /** Largest decoded size accepted from one file, in bytes, checked against the size the file declares before allocating; default DEFAULT_MAX_BYTES (64 MB). */
  maxBytes?: number;
}

export function maxBytesOf(limits: DecodeLimits): number {
  return limits.maxBytes ?? DEFAULT_MAX_BYTES;
}

/** Throws InputTooLargeError when `declared` bytes exceed the limit; `detail` says how the size was worked out. */
export function checkDeclaredSize(path: string, field: string, declared: number, limits: DecodeLimits, detail?: string): void {
  const limit = maxBytesOf(limits);
  if (declared > limit) throw new InputTooLargeError(path, field, declared, limit, detail);
}
