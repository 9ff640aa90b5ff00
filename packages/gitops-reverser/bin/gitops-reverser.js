#!/usr/bin/env node
// The kernel's CLI, run from this package so that one install brings the command and the adapters
// most configs name (see README.md). Adapters resolve from the config file's folder upwards, then
// from the kernel's installation, which sits beside these dependencies.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const manifestFile = require.resolve('@gitops-reverser/kernel/package.json');
const manifest = require(manifestFile);
await import(pathToFileURL(join(dirname(manifestFile), manifest.bin['gitops-reverser'])).href);
