/**
 * Module boundaries of the monolith, checked by `pnpm lint` and by test/boundaries.test.ts (which
 * also proves each rule catches a violation):
 * - a module (src/modules/<name>/) imports another module only through its entry (index.ts);
 * - only along the allowed-dependencies matrix below;
 * - a module never imports src/db (the whole schema): it declares its own tables (tables.ts)
 *   and is handed a database typed with those only;
 * - src/shared and src/db sit below the modules (src/db may read the modules' tables.ts, whose
 *   union is the schema).
 */

/**
 * Which module may depend on which: the one place this is decided. Orders drives an order
 * through catalog (stock), payments (charge/refund) and shipping (restart recovery asks it which
 * orders still need their event); catalog, payments and shipping depend on no other module.
 */
const ALLOWED = {
  catalog: [],
  orders: ['catalog', 'payments', 'shipping'],
  payments: [],
  shipping: [],
};

const MODULES = Object.keys(ALLOWED);

const matrixRules = MODULES.map((name) => {
  const forbidden = MODULES.filter((other) => other !== name && !ALLOWED[name].includes(other));
  return {
    name: 'module-matrix',
    severity: 'error',
    comment: `${name} may depend only on ${ALLOWED[name].length ? ALLOWED[name].join(', ') : 'no other module'} (ALLOWED in .dependency-cruiser.cjs).`,
    from: { path: `(^|/)src/modules/${name}/` },
    to: { path: forbidden.length ? `(^|/)src/modules/(${forbidden.join('|')})/` : '^$' },
  };
}).filter((rule) => rule.to.path !== '^$');

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
    ...matrixRules,
    {
      name: 'module-own-tables-only',
      severity: 'error',
      comment: 'A module sees its own tables only (its tables.ts and the handle it is given), never the whole schema in src/db.',
      from: { path: '(^|/)src/modules/' },
      to: { path: '(^|/)src/db/' },
    },
    {
      name: 'shared-does-not-import-modules',
      severity: 'error',
      comment: "src/shared and src/db are below the modules; src/db may only compose the modules' tables.ts into the schema.",
      from: { path: '(^|/)src/(shared|db)/' },
      to: { path: '(^|/)src/modules/', pathNot: '(^|/)src/modules/[^/]+/tables\\.ts$' },
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
