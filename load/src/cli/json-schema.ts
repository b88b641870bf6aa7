// Writes the JSON Schema of comparison.json (generated from the zod schema in
// @archbench/contracts/comparison) to stdout, or to the file given as the only argument.
import { comparisonJsonSchema } from '@archbench/contracts/comparison';
import { writeFileAtomic } from '@archbench/contracts/files';

export function renderJsonSchema(): string {
  return `${JSON.stringify(comparisonJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const target = process.argv[2];
  if (target) writeFileAtomic(target, renderJsonSchema());
  else process.stdout.write(renderJsonSchema());
}
