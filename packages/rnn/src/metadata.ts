import { ModelMetadataError } from "./errors.js";

/** Free-form facts stored with a model in model.json (e.g. how images became sequences). */
export type ModelMetadata = Readonly<Record<string, unknown>>;

/**
 * A frozen deep copy of user metadata, checked to survive JSON unchanged: it is written to
 * model.json, so anything JSON would drop or alter (functions, NaN, Dates, Maps, cycles) is
 * rejected here rather than lost on save. Object properties that are undefined are left out,
 * as JSON.stringify does.
 */
export function copyMetadata(metadata: unknown, field = "metadata"): ModelMetadata {
  if (!isPlainObject(metadata)) throw new ModelMetadataError(field, "a plain object", describe(metadata));
  return copyJson(metadata, field, new Set()) as ModelMetadata;
}

function copyJson(value: unknown, field: string, ancestors: Set<object>): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ModelMetadataError(field, "a finite number", String(value));
    return value;
  }
  if (typeof value !== "object") throw new ModelMetadataError(field, "a JSON value", describe(value));
  if (ancestors.has(value)) throw new ModelMetadataError(field, "a tree of values", "a reference to an enclosing object (a cycle)");
  ancestors.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item, k) => {
      if (item === undefined) throw new ModelMetadataError(`${field}[${k}]`, "a JSON value", "undefined");
      return copyJson(item, `${field}[${k}]`, ancestors);
    });
  } else if (isPlainObject(value)) {
    copy = Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, copyJson(item, `${field}.${key}`, ancestors)]),
    );
  } else {
    throw new ModelMetadataError(field, "a plain object or array", describe(value));
  }
  ancestors.delete(value);
  return Object.freeze(copy);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return `an instance of ${value.constructor?.name ?? "a class"}`;
  return typeof value === "bigint" ? `${value}n` : String(value);
}
