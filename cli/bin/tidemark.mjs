#!/usr/bin/env node
// The `tidemark` command. The workspace ships TypeScript sources (no build step), so tsx's loader is registered
// here and the entry point imported through it; start-up stays well under a second.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
