// Sums the vitest JSON reports of every workspace package into the one line CI reads.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const roots = ["packages", "apps"];
const dirs = roots.flatMap((root) =>
  existsSync(root) ? readdirSync(root).map((name) => join(root, name)) : [],
);
dirs.push("bench");

let passed = 0;
let failed = 0;
let reports = 0;
for (const dir of dirs) {
  const file = join(dir, ".vitest-result.json");
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  reports += 1;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A test file that fails to load has no tests to count; count it as a failure.
  failed += (report.testResults ?? []).filter(
    (file) => file.status === "failed" && file.assertionResults.length === 0,
  ).length;
}
if (reports === 0) failed += 1;

// The consumer test (scripts/consumer-test.mjs) installs the packed packages outside the
// workspace; each of its checks counts like a test. .ci/run deletes the file before it runs,
// so a missing file means the script died before reporting: one failure.
const consumer = "scripts/.consumer-result.json";
if (existsSync(consumer)) {
  const report = JSON.parse(readFileSync(consumer, "utf8"));
  passed += report.passed;
  failed += report.failed;
} else {
  console.log(`${consumer} is missing: the consumer test did not finish`);
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
