/**
 * A two-column markdown table of `entries` (e.g. a run's hyper-parameters),
 * for SummaryWriter.text(). Objects and arrays are shown as JSON; pipes and
 * line breaks are escaped so a value cannot break the table.
 */
export function markdownTable(entries: Record<string, unknown>, header: [string, string] = ["name", "value"]): string {
  const cell = (v: unknown) =>
    (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v))).replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
  const lines = [`| ${cell(header[0])} | ${cell(header[1])} |`, "| --- | --- |"];
  for (const [key, value] of Object.entries(entries)) lines.push(`| ${cell(key)} | ${cell(value)} |`);
  return lines.join("\n");
}
