#!/usr/bin/env node
// The launcher is TypeScript source like every workspace package: load it through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
