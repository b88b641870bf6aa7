#!/usr/bin/env node
import { main } from './cli/main';

// `archbench … | head -3`: once the reader is gone, the rest of the output has nowhere to go.
// Drop it quietly (no unhandled EPIPE stack trace) and let the command finish what it writes to files.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await main(process.argv.slice(2));
