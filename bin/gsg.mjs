#!/usr/bin/env node
// The `gsg` command. Compiles the TypeScript sources on first use (or after they change), then runs the CLI.
import { isStale, buildDist } from '../scripts/build.mjs';

if (isStale()) await buildDist();
await import('../dist/infra/cli/main.js');
