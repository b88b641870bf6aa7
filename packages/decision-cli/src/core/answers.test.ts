import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { answersJsonSchema, DEFAULT_ANSWERS, parseAnswers } from './answers';
import { InputError } from './errors';
import { MODEL_V1, MODEL_V2 } from './model';
import { enumValuesOf } from './answers';
import { QUESTIONS } from './questions';
import { answersTemplate } from './template';

const clone = <T>(x: T): T => structuredClone(x);
/** Answers as plain data, to break them on purpose. */
type Loose = { team: Record<string, unknown>; load: Record<string, unknown>; cost: Record<string, unknown>; [k: string]: unknown };

function messageOf(data: unknown): string {
  try {
    parseAnswers(data, 'answers.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected parseAnswers to throw');
}

describe('parseAnswers', () => {
  it('accepts complete answers', () => {
    expect(parseAnswers(clone(SMALL_TEAM_MVP))).toEqual(SMALL_TEAM_MVP);
  });

  it.each([
    {
      name: 'an unknown field, naming the allowed ones',
      mutate: (a: Loose) => (a.team.squads = 3),
      expected: /team\.squads: unknown field; allowed fields in team: teams, engineers, onCall, platformMaturity/,
    },
    {
      name: 'an unknown top-level field',
      mutate: (a: Loose) => (a.budget = 1),
      expected: /budget: unknown field; allowed fields: version, project, people, team/,
    },
    {
      name: 'a value outside an enum, listing the allowed values',
      mutate: (a: Loose) => (a.team.onCall = 'always'),
      expected: /team\.onCall: must be one of none, shared-rotation, per-team, or unknown \(got "always"\)/,
    },
    { name: 'a missing field', mutate: (a: Loose) => delete a.load.p95BudgetMs, expected: /load\.p95BudgetMs: is required; expected a number/ },
    {
      name: 'a missing enum field',
      mutate: (a: Loose) => delete a.timeToMarket,
      expected: /timeToMarket: is required; expected one of relaxed, normal, urgent/,
    },
    {
      name: 'a wrong type',
      mutate: (a: Loose) => (a.team.teams = 'three'),
      expected: /team\.teams: must be a whole number >= 1 and <= 1000, or unknown \(got "three"\)/,
    },
    { name: 'a fraction where a whole number is needed', mutate: (a: Loose) => (a.team.teams = 2.5), expected: /team\.teams: must be a whole number/ },
    { name: 'a peak below the expected rate', mutate: (a: Loose) => (a.load.peakRps = 1), expected: /load\.peakRps: must be at least expectedRps/ },
    { name: 'a wrong version', mutate: (a: Loose) => (a.version = 3), expected: /version: must be 1 or 2 \(got 3\)/ },
    {
      name: 'an absurd rate (1e308)',
      mutate: (a: Loose) => (a.load.expectedRps = 1e308),
      expected: /load\.expectedRps: must be a number > 0 and <= 10000000, or unknown \(got 1e\+308\)/,
    },
    { name: 'an infinite rate', mutate: (a: Loose) => (a.load.peakRps = Infinity), expected: /load\.peakRps: must be a number/ },
    { name: 'more teams than engineers', mutate: (a: Loose) => (a.team.teams = 20), expected: /team\.teams: 20 teams cannot be made of 5 engineers/ },
    {
      name: 'an unknown value for a new field',
      mutate: (a: Loose) => (a.today = { pain: 'boredom' }),
      expected: /today\.pain: must be one of none, deploy-coupling, transaction-timeouts, tracing-cost, scaling-cost, or unknown/,
    },
  ])('rejects $name', ({ mutate, expected }) => {
    const a = clone(SMALL_TEAM_MVP) as unknown as Loose;
    mutate(a);
    expect(messageOf(a)).toMatch(expected);
  });

  it('rejects an empty file and a list', () => {
    expect(messageOf(null)).toMatch(/answers file is empty/);
    expect(messageOf([1])).toMatch(/expected a mapping of answers at the top level, got a list/);
  });

  it('lists every problem at once', () => {
    const a = clone(SMALL_TEAM_MVP) as unknown as Loose;
    a.team.onCall = 'x';
    a.cost.sensitivity = 'y';
    const message = messageOf(a);
    expect(message).toMatch(/team\.onCall/);
    expect(message).toMatch(/cost\.sensitivity/);
  });
});

describe('published answers schema', () => {
  it('schema/answers.schema.json matches the zod schema (run `pnpm --filter @archbench/decision-cli schema` after changes)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/answers.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(answersJsonSchema());
    expect(committed.additionalProperties).toBe(false);
    expect(committed.properties.team.properties.onCall.anyOf[0].enum).toEqual(['none', 'shared-rotation', 'per-team']);
  });
});

describe('answers template', () => {
  it('parses back to the defaults and documents every question', () => {
    const text = answersTemplate();
    const parsed = parseAnswers(YAML.parse(text));
    expect(parsed).toMatchObject({ ...DEFAULT_ANSWERS, people: { decisionMakers: [], consulted: [], informed: [] } });
    for (const q of QUESTIONS) expect(text).toContain(q.message);
    expect(text).toContain('One of: none (Nobody (best effort)), shared-rotation');
  });

  it('round-trips other answers', () => {
    expect(parseAnswers(YAML.parse(answersTemplate(SMALL_TEAM_MVP)))).toMatchObject(SMALL_TEAM_MVP);
  });
});

describe('questions and model stay in step with the schema', () => {
  it('every enum question offers exactly the schema values', () => {
    for (const q of QUESTIONS.filter((x) => x.kind === 'enum')) expect(q.choices?.map((c) => c.value)).toEqual(enumValuesOf(q.path));
  });

  it('every model criterion has a level for every allowed value of its answer', () => {
    for (const c of [...MODEL_V1.criteria, ...MODEL_V2.criteria]) {
      for (const path of [c.answer, c.weightBy?.answer].filter((p): p is string => !!p)) {
        const values = enumValuesOf(path);
        if (path === c.answer && values)
          for (const v of values)
            expect(
              c.levels.some((l) => !l.when || ('equals' in l.when && l.when.equals === v)),
              `${c.id}: ${v}`,
            ).toBe(true);
        if (path === c.weightBy?.answer && values) expect(Object.keys(c.weightBy.factors).sort()).toEqual([...values].sort());
      }
      if (c.levels.some((l) => l.when && 'max' in l.when)) expect(c.levels.at(-1)?.when, `${c.id} needs an open-ended last band`).toBeUndefined();
    }
  });
});
