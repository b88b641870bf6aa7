#!/usr/bin/env tsx
import { runCli } from './run-cli';

// The one place the CLI touches the process: arguments, environment, streams, exit code.
// eslint-disable-next-line no-restricted-properties -- entry file: runCli parses the env itself
runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`conformance: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
