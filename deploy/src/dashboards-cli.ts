import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS, DASHBOARD_DIR, dashboardFile, renderDashboard } from './dashboards';

// `pnpm --filter @archbench/deploy dashboards`: rewrites the Grafana dashboard JSON that compose
// provisions (a test fails when the checked-in files differ from this output).
mkdirSync(DASHBOARD_DIR, { recursive: true });
for (const spec of DASHBOARDS) {
  const file = join(DASHBOARD_DIR, dashboardFile(spec));
  writeFileSync(file, `${JSON.stringify(renderDashboard(spec), null, 2)}\n`);
  process.stdout.write(`${file}\n`);
}
