import { it } from 'vitest';
import { score } from './core/scoring';
import { MODEL_V1, MODEL_V2 } from './core/model';
import { NO_EVIDENCE, evidenceFromComparison } from './core/evidence';
import { comparisonFixture } from '../test/fixtures/comparison';
import { WEBHOOK_BURSTS, FOURTEEN_TEAMS } from '../test/fixtures/profiles';
import { SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS } from '../test/fixtures/answers';
it('ranks', () => {
  const ev = evidenceFromComparison(comparisonFixture(), 'c.json');
  for (const [name, a] of Object.entries({ WEBHOOK_BURSTS, FOURTEEN_TEAMS, SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS })) {
    for (const [mn, m] of [['v1', MODEL_V1], ['v2', MODEL_V2]] as const) for (const [en, e] of [['none', NO_EVIDENCE], ['cmp', ev]] as const) {
      const r = score(a, e, { model: m });
      console.log(name, mn, en, r.ranking.map((o) => `${o.option} ${o.score.toFixed(1)}`).join(' | '));
    }
  }
});
