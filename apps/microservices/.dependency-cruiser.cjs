/**
 * Service boundaries of the microservices app, checked by `pnpm lint` and by
 * test/boundaries.test.ts (which also proves the rules catch a violation):
 * - a process folder (src/<service>/: gateway, inventory, orders, payments, shipping) imports only
 *   its own files, src/shared/, src/env.ts and packages (contracts, domain, server-kit, npm) —
 *   never another service's code, so each could live in a repository of its own;
 * - src/shared/ sits below the services and never imports them.
 */
const SERVICES = ['gateway', 'inventory', 'orders', 'payments', 'shipping'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'service-imports-shared-only',
      severity: 'error',
      comment:
        'A service imports its own folder, src/shared/, src/env.ts and packages only; what two services need goes to src/shared/ or @archbench/contracts.',
      from: { path: `^src/(${SERVICES.join('|')})/` },
      // Workspace packages resolve to ../../packages/…, outside ^src/, so they stay allowed.
      to: { path: '^src/', pathNot: ['^src/$1/', '^src/shared/', '^src/env\\.ts$'] },
    },
    {
      name: 'shared-does-not-import-services',
      severity: 'error',
      comment: 'src/shared/ is below the services.',
      from: { path: '^src/shared/' },
      to: { path: `^src/(${SERVICES.join('|')})/` },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
