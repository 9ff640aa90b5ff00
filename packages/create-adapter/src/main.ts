#!/usr/bin/env node
import { runCreateAdapter } from './run-create-adapter.js';

process.exitCode = await runCreateAdapter(process.argv.slice(2));
