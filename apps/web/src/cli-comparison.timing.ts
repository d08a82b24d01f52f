import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { expect, it } from "vitest";
import { formatTestLine } from "@mnist/train";
import { buildPage, CHROMIUM, CHROMIUM_FLAGS, hasChromium } from "./browser.test-support.js";
import { serveStatic } from "./static-server.test-support.js";

// `pnpm --filter web bench`: the tutorial run (hidden 128, 100000 samples of batch 128, seed 0)
// timed in one session, first by the CLI (`mnist-rnn train --backend wasm`, built apps/cli/dist),
// then by the built page in headless Chromium, cross-origin isolated, on the same thread count.
// Prints both times, their ratio, both test accuracies and the page's main-thread long tasks.

const cliMain = new URL("../../cli/dist/main.js", import.meta.url).pathname;

interface CliRun {
  wallSeconds: number;
  trainSeconds: number;
  testLine: string;
}

function runCli(threads: number, logdir: string): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, "train", "--backend", "wasm", "--workers", String(threads), "--json", "--logdir", logdir], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`mnist-rnn train exited with ${code}`));
      const events = out.trim().split("\n").map((line) => JSON.parse(line) as { event: string; seconds?: number; accuracy?: number });
      const finished = events.find((e) => e.event === "finished");
      const test = events.find((e) => e.event === "test");
      if (finished?.seconds === undefined || test?.accuracy === undefined) return reject(new Error(`no finished or test event in: ${out}`));
      resolve({ wallSeconds: (performance.now() - started) / 1000, trainSeconds: finished.seconds, testLine: formatTestLine(test.accuracy) });
    });
  });
}

it.skipIf(!hasChromium)("the tutorial run in the page against the CLI", async () => {
  const work = await mkdtemp(join(tmpdir(), "mnist-web-timing-"));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const server = await (async () => {
    await buildPage(join(work, "dist"));
    return serveStatic(join(work, "dist"), { isolated: true });
  })();
  try {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const durations: number[] = [];
      (window as unknown as { longTasks: number[] }).longTasks = durations;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) durations.push(entry.duration);
      }).observe({ type: "longtask", buffered: true });
    });
    await page.goto(server.url);
    await page.waitForSelector("body[data-mnist=loaded]", { timeout: 120_000 });
    const threads = Number(await page.getAttribute("body", "data-threads"));
    const mode = await page.textContent("#threads");

    const cli = await runCli(threads, join(work, "logs"));

    // index.html's defaults are the tutorial's settings.
    const longTasks = () => page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.filter((d) => d > 100));
    const before = (await longTasks()).length;
    const started = performance.now();
    await page.click("#train");
    await page.waitForSelector("body[data-training=finished]", { timeout: 900_000 });
    const duringTraining = (await longTasks()).slice(before);
    await page.waitForSelector("body[data-evaluations='1']", { timeout: 300_000 });
    const pageWall = (performance.now() - started) / 1000;
    const pageTrain = Number(await page.getAttribute("body", "data-train-seconds"));
    const pageTestLine = ((await page.textContent("#log")) ?? "").trim().split("\n").at(-1);
    const longTaskCount = duringTraining.length;

    const lines = [
      `threads: ${threads} (${mode})`,
      `CLI  train --backend wasm --workers ${threads}: ${cli.wallSeconds.toFixed(1)} s wall (process start to exit), training ${cli.trainSeconds.toFixed(1)} s, ${cli.testLine}`,
      `page Train to test accuracy shown: ${pageWall.toFixed(1)} s, training ${pageTrain.toFixed(1)} s, ${pageTestLine}`,
      `ratio page / CLI: ${(pageWall / cli.wallSeconds).toFixed(2)} (wall), ${(pageTrain / cli.trainSeconds).toFixed(2)} (training)`,
      `main-thread long tasks over 100 ms while training: ${longTaskCount}${longTaskCount > 0 ? ` (${duringTraining.map((d) => d.toFixed(0)).join(", ")} ms)` : ""}`,
      `load average at the end: ${loadavg().map((n) => n.toFixed(2)).join(" ")}`,
    ];
    console.log(lines.join("\n"));
    expect(pageTestLine).toBe(cli.testLine);
    expect(longTaskCount).toBe(0);
  } finally {
    await browser.close();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
});
