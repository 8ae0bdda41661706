// The layering rules of the repository (packages never import services, core is pure, no cycles),
// checked by `npm run check:deps` before the tests run. dependency-cruiser reads the sources, not
// the build output: `@walaudit/<name>` resolves through the paths of tsconfig.tests.json to
// `<packages|services>/<name>/src/index.ts`, so a workspace import is judged by the folder it
// names and the cycles are those of the sources.

/** The processes' packages: adapters and core must not depend on any of them. */
const SERVICES = ['alerter', 'api', 'audit-writer', 'cli', 'correlator', 'restorer', 'wal-reader'];
/**
 * A service's module however the import resolved: its sources (tsconfig paths), its workspace
 * symlink (a service missing from the paths; symlinks are kept, see preserveSymlinks), or its bare
 * name (not resolved at all: not built yet).
 */
const SERVICE_MODULES = `^services/|node_modules/@walaudit/(${SERVICES.join('|')})/|^@walaudit/(${SERVICES.join('|')})(/|$)`;
const ADAPTER_MODULES = '^packages/(pg|kafka|clickhouse)/|node_modules/@walaudit/(pg|kafka|clickhouse)/|^@walaudit/(pg|kafka|clickhouse)(/|$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'package-imports-service',
      comment:
        'packages/* (core and the adapters) must not import a service: move the shared contract into packages/core, ' +
        'or let the composition root (services/cli) wire the two together.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: SERVICE_MODULES, pathNot: '^services/[^/]+/node_modules/' },
    },
    {
      name: 'core-imports-adapter',
      comment: 'packages/core is the pure domain: it must not import an adapter (@walaudit/pg, kafka, clickhouse); the adapters implement its contracts.',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { path: ADAPTER_MODULES },
    },
    {
      name: 'core-imports-client-library',
      comment:
        'packages/core does no I/O: its only library is zod (node: builtins are fine). A client library belongs in an adapter; ' +
        'put the contract core needs in core and implement it there.',
      severity: 'error',
      // Core's own unit tests may use the test runner.
      from: { path: '^packages/core/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'], pathNot: '(^|/)node_modules/zod/' },
    },
    {
      name: 'core-imports-unresolvable',
      comment: 'packages/core imports a module that is neither a node builtin nor installed: core may only use zod.',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'console-imports-workspace',
      comment:
        'services/console is a browser app: it reaches walaudit through the HTTP API only (docs/api.md), never by importing a package or a service.',
      severity: 'error',
      from: { path: '^services/console/' },
      to: { path: '^(packages|services)/|node_modules/@walaudit/|^@walaudit/', pathNot: '^services/console/' },
    },
    {
      name: 'no-circular',
      comment: 'A circular dependency: split the shared part into a module both can import.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages|services)/[^/]+/(dist|\\.turbo)/' },
    // Type-only imports count: a contract imported from a service is a dependency on it too.
    tsPreCompilationDeps: true,
    // A workspace package that tsconfig.tests.json does not map stays node_modules/@walaudit/<name>
    // instead of becoming its dist/ (excluded), so the rules above still see which package it is.
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.tests.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
