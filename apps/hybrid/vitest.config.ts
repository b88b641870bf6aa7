import { defineConfig } from 'vitest/config';
import { realServerSuite } from '@archbench/server-kit/testing';

// Test files start real processes and databases: one file at a time (see realServerSuite).
export default defineConfig({ test: realServerSuite });
