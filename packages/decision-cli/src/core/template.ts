import YAML from 'yaml';
import { DEFAULT_ANSWERS, getAnswer, type Answers } from './answers';
import { QUESTIONS } from './questions';

const SECTIONS = ['team', 'domain', 'load', 'change', 'operations', 'cost'] as const;

function comment(text: string, indent: string): string {
  return text
    .split('\n')
    .map((line) => `${indent}# ${line}`.trimEnd())
    .join('\n');
}

function scalar(value: unknown): string {
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
    const allowed = q.choices ? `\nOne of: ${q.choices.map((c) => `${c.value} (${c.name})`).join(', ')}` : q.kind === 'int' ? '\nA whole number, at least 1.' : '\nA number above 0.';
    return `${q.message} ${q.help}${allowed}`;
  };
  for (const section of SECTIONS) {
    const group = QUESTIONS.find((q) => q.path.startsWith(`${section}.`))?.group ?? section;
    lines.push('', `# ── ${group} ──`, `${section}:`);
    for (const q of QUESTIONS.filter((x) => x.path.startsWith(`${section}.`))) {
      lines.push(comment(describe(q.path), '  '), `  ${q.path.split('.')[1]}: ${scalar(getAnswer(answers, q.path))}`);
    }
  }
  lines.push('', '# ── Time to market ──', comment(describe('timeToMarket'), ''), `timeToMarket: ${scalar(answers.timeToMarket)}`, '');
  return lines.join('\n');
}
