import { defineConfig } from 'vitest/config';
import { realServerSuite } from '@archbench/server-kit/testing';

// Each test file starts five real processes: files run one at a time (see realServerSuite).
export default defineConfig({ test: realServerSuite });
