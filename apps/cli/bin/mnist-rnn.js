#!/usr/bin/env node
// A committed entry, present before the first build, so that pnpm can link the bin of every
// workspace package depending on the cli (bench) at install time; it runs the built CLI.
import "../dist/main.js";
