/** The parts of an event file name; every one has a default. */
export interface EventFileNameParts {
  /** Creation time, whole seconds since the epoch; default now. */
  seconds: number;
  /** Host name; default "localhost". */
  host: string;
  /** Process id; default 0. */
  pid: number;
  /** Writers opened so far by this process, so two in one folder differ; default 0. */
  counter: number;
  /** Text appended after the counter, e.g. ".v2"; default "". */
  suffix: string;
}

/**
 * `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<counter><suffix>`,
 * the name TensorFlow's writers use. TensorBoard only needs "tfevents" in it,
 * but the zero-padded time makes a folder's files sort by creation, which is
 * the order TensorBoard reads a run's files in.
 */
export function eventFileName(parts: Partial<EventFileNameParts> = {}): string {
  const seconds = parts.seconds ?? Math.floor(Date.now() / 1000);
  // Path separators would turn the name into a path.
  const host = (parts.host ?? "localhost").replace(/[/\\]/g, "_");
  const pid = parts.pid ?? 0;
  const counter = parts.counter ?? 0;
  const suffix = parts.suffix ?? "";
  return `events.out.tfevents.${String(Math.floor(seconds)).padStart(10, "0")}.${host}.${pid}.${counter}${suffix}`;
}
