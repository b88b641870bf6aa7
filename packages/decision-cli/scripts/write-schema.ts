// Writes schema/answers.schema.json from the zod schema; a test fails when the committed file
// and the schema drift apart, so run `pnpm --filter @archbench/decision-cli schema` after changes.
import { writeFileSync } from 'node:fs';
import { answersJsonSchema } from '../src/core/answers';

const path = new URL('../schema/answers.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(answersJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.pathname}\n`);
