import YAML from 'yaml';
import { DEFAULT_ANSWERS, getAnswer, type Answers } from './answers';
import { QUESTIONS } from './questions';

const SECTIONS = ['team', 'domain', 'load', 'change', 'operations', 'cost'] as const;
const LATER = ['today'] as const;

function comment(text: string, indent: string): string {
  return text
    .split('\n')
    .map((line) => `${indent}# ${line}`.trimEnd())
    .join('\n');
}

function scalar(value: unknown): string {
  // Lists stay on the key's line as a flow sequence (JSON is valid YAML).
  if (Array.isArray(value)) return JSON.stringify(value);
  return YAML.stringify(value).trimEnd();
}

/**
 * A commented YAML answers file: every question, its help text and allowed values, filled with
 * the given answers (the defaults unless told otherwise). Parses back to exactly those answers.
 * @example writeFileSync('answers.yaml', answersTemplate())
 */
export function answersTemplate(answers: Answers = DEFAULT_ANSWERS, schemaPath = './node_modules/@archbench/decision-cli/schema/answers.schema.json'): string {
  const lines: string[] = [
    `# yaml-language-server: $schema=${schemaPath}`,
    '# archbench decision answers. Fill in, then run:',
    '#   archbench decide --answers answers.yaml --comparison results/comparison.json',
    '# Unknown fields are rejected; every field below is required unless marked optional.',
    '# Any answer may be `unknown`: it is scored from the model prior and listed as an assumption.',
    `version: ${answers.version}`,
    '',
    '# What is being decided (optional); the name goes into the ADR title.',
    'project:',
    `  name: ${scalar(answers.project?.name ?? 'order-processing system')}`,
    answers.project?.problem ? `  problem: ${scalar(answers.project.problem)}` : '  # problem: One or two sentences on the problem, used as the ADR context.',
    '',
    '# ADR front matter (optional): who decides, who is consulted, who is informed.',
    'people:',
    `  decisionMakers: ${scalar(answers.people?.decisionMakers ?? [])}`,
    `  consulted: ${scalar(answers.people?.consulted ?? [])}`,
    `  informed: ${scalar(answers.people?.informed ?? [])}`,
  ];
  const describe = (path: string) => {
    const q = QUESTIONS.find((x) => x.path === path)!;
    const allowed = q.choices
      ? `\nOne of: ${q.choices.map((c) => `${c.value} (${c.name})`).join(', ')}, or unknown.`
      : q.kind === 'int'
        ? '\nA whole number, at least 1, or unknown.'
        : q.path === 'load.busyHoursPerDay'
          ? '\nA number from 0 to 24, or unknown.'
          : '\nA number above 0, or unknown.';
    return `${q.message} ${q.help}${allowed}${q.optional ? ' Optional.' : ''}`;
  };
  const field = (q: (typeof QUESTIONS)[number]) => {
    const value = getAnswer(answers, q.path);
    const key = q.path.split('.')[1];
    // Optional answers that were not given stay commented out, so the file parses back unchanged.
    return value === undefined ? `  # ${key}: unknown` : `  ${key}: ${scalar(value)}`;
  };
  for (const section of SECTIONS) {
    const group = QUESTIONS.find((q) => q.path.startsWith(`${section}.`))?.group ?? section;
    lines.push('', `# ── ${group} ──`, `${section}:`);
    for (const q of QUESTIONS.filter((x) => x.path.startsWith(`${section}.`))) lines.push(comment(describe(q.path), '  '), field(q));
  }
  lines.push('', '# ── Time to market ──', comment(describe('timeToMarket'), ''), `timeToMarket: ${scalar(answers.timeToMarket)}`);
  for (const section of LATER) {
    const qs = QUESTIONS.filter((x) => x.path.startsWith(`${section}.`));
    const group = qs[0]?.group ?? section;
    const given = qs.some((q) => getAnswer(answers, q.path) !== undefined);
    lines.push('', `# ── ${group} (optional; missing answers count as unknown) ──`, given ? `${section}:` : `# ${section}:`);
    for (const q of qs) lines.push(comment(describe(q.path), '  '), given ? field(q) : `  # ${q.path.split('.')[1]}: unknown`);
  }
  lines.push('');
  return lines.join('\n');
}
