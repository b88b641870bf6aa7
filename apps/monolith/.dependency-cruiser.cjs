/**
 * Module boundaries of the monolith: a module (src/modules/<name>/) may import another module
 * only through that module's public entry (index.ts). Checked by `pnpm lint` and by
 * test/boundaries.test.ts, which also proves the rule catches a violation.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'module-entry-only',
      severity: 'error',
      comment: 'Import other modules through their index.ts only (src/modules/<name>/index.ts).',
      from: { path: '(^|/)src/modules/([^/]+)/' },
      to: {
        path: '(^|/)src/modules/([^/]+)/.+',
        pathNot: ['(^|/)src/modules/$2/', '(^|/)src/modules/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'shared-does-not-import-modules',
      severity: 'error',
      comment: 'src/shared and src/db are below the modules; they must not depend on them.',
      from: { path: '(^|/)src/(shared|db)/' },
      to: { path: '(^|/)src/modules/' },
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
