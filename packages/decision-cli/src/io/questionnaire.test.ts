import { describe, expect, it } from 'vitest';
import { DEFAULT_ANSWERS } from '../core/answers';
import { QUESTIONS } from '../core/questions';
import { answersTemplate } from '../core/template';
import { checkNumber } from './questionnaire';

const question = (path: string) => QUESTIONS.find((q) => q.path === path)!;

describe('the questionnaire accepts the numbers the answers schema accepts', () => {
  it('busy hours a day: 0 to 24 (0 = near idle all day), not below or above', () => {
    const q = question('load.busyHoursPerDay');
    expect(checkNumber(q, '0', DEFAULT_ANSWERS)).toBe(true);
    expect(checkNumber(q, '24', DEFAULT_ANSWERS)).toBe(true);
    expect(checkNumber(q, '-1', DEFAULT_ANSWERS)).toBe('Please enter a number of at least 0');
    expect(checkNumber(q, '25', DEFAULT_ANSWERS)).toBe('Please enter at most 24');
    expect(answersTemplate()).toContain(
      'Hours a day at about the expected rate (0-24)? The rest of the day counts as near idle; the monthly cost estimate uses it. Unknown: derived from the traffic shape.\n  # A number from 0 to 24, or unknown. Optional.',
    );
  });

  it('rates and budgets stay above 0, counts at least 1', () => {
    expect(checkNumber(question('load.expectedRps'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number above 0');
    expect(checkNumber(question('load.p95BudgetMs'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number above 0');
    expect(checkNumber(question('team.teams'), '0', DEFAULT_ANSWERS)).toBe('Please enter a number of at least 1');
    expect(checkNumber(question('team.teams'), '?', DEFAULT_ANSWERS)).toBe(true);
  });
});
