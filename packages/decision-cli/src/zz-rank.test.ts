import { it } from 'vitest';
import { score } from './core/scoring';
import { MODEL_V1, MODEL_V2 } from './core/model';
import { NO_EVIDENCE, evidenceFromComparison } from './core/evidence';
import { analyseSensitivity, assessConfidence, describeConfidence } from './core/sensitivity';
import { comparisonFixture, comparisonV2Fixture } from '../test/fixtures/comparison';
import { WEBHOOK_BURSTS, FOURTEEN_TEAMS } from '../test/fixtures/profiles';
import { SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS } from '../test/fixtures/answers';
it('ranks', () => {
  const ev = evidenceFromComparison(comparisonFixture(), 'c.json');
  const ev2 = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');
  for (const [name, a] of Object.entries({ WEBHOOK_BURSTS, FOURTEEN_TEAMS, SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS })) {
    for (const [mn, m] of [['v1', MODEL_V1], ['v2', MODEL_V2]] as const) for (const [en, e] of [['none', NO_EVIDENCE], ['cmp1', ev], ['cmp2', ev2]] as const) {
      if (mn === 'v1' && en === 'cmp2') continue;
      const r = score(a, e, { model: m });
      const s = analyseSensitivity(a, e, { model: m }, r);
      const c = assessConfidence(r, s, m);
      console.log(name, mn, en, r.ranking.map((o) => `${o.option} ${o.score.toFixed(1)}`).join(' | '), '||', c.level, describeConfidence(c).slice(0, 400));
      if (en === 'cmp2' && name === 'WEBHOOK_BURSTS') console.log(r.assessments.map((x) => `${x.topology}: ${x.monthly?.monthlyEur.toFixed(2)}`).join(', '));
    }
  }
});
