import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/*
 * The floors (docs/architecture.md): an import may only go down or sideways, never up.
 *   src/base -> src/model -> src/config -> src/<component> -> activities, workflows -> workers, cli
 * Each block below says what one folder may not import; test/lint/layers.test.ts shows they fire.
 * A later block replaces an earlier one's rule for the files it matches, so each repeats what
 * still applies. `regex` is matched against the import's path as written (relative).
 */
const ENTRY_POINTS_AND_TOOLING = 'cli|workers|workflows|activities|tools|test|bench|demo';
const TOOLING = 'tools|test|bench|demo';

/** Static imports and exports, `import type` included unless `types` allows them. */
const forbid = (regex, message, types = false) => ({
  regex,
  message,
  ...(types ? { allowTypeImports: true } : {}),
});
/** `import('...')` is not seen by no-restricted-imports: the same paths, as a syntax rule. */
const forbidDynamic = (regex, message) => ({
  selector: `ImportExpression[source.value=/${regex.replace(/\//g, '\\/')}/]`,
  message,
});
const floors = (files, rules) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: rules.map(([regex, message, types]) => forbid(regex, message, types)) },
    ],
    'no-restricted-syntax': ['error', ...rules.map(([regex, message]) => forbidDynamic(regex, message))],
  },
});

const upward = (below, what = ENTRY_POINTS_AND_TOOLING) => [
  `^(\\.\\./)+(${what})/`,
  `${below} never imports ${what.split('|').join('/, ')}/ (docs/architecture.md)`,
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.reprise/', 'charts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // No cycle anywhere (type-only imports excepted: they vanish at run time).
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // The shipped core and the sidecar: nothing above them, no test tooling.
  floors(['src/**/*.ts', 'sidecar/**/*.ts'], [upward('the core (src/, sidecar/)')]),
  floors(
    ['src/base/**/*.ts'],
    [['^\\.\\./', 'src/base imports nothing of the project (docs/architecture.md)']],
  ),
  floors(
    ['src/model/**/*.ts'],
    [['^\\.\\./(?!base/)', 'src/model imports only src/base (docs/architecture.md)']],
  ),
  floors(
    ['src/config/**/*.ts'],
    [
      [
        '^\\.\\./(?!base/|model/|dlp/rules\\.js$|filters/rules\\.js$)',
        'src/config (workflow inputs and results) imports only src/base, src/model and the DLP and filter rule schemas (docs/architecture.md)',
      ],
    ],
  ),
  // Wire formats (HTTP/2, gRPC): parsers and builders any component may use, so they use none.
  floors(
    ['src/protocols/**/*.ts'],
    [
      upward('the core (src/, sidecar/)'),
      [
        '^\\.\\./\\.\\./(?!base/|model/)',
        'src/protocols (one folder per protocol) imports only src/base, src/model and other protocols (docs/architecture.md)',
      ],
    ],
  ),
  // The Kubernetes wing, kubebuilder's way: api <- client <- webhooks, controller, inspector.
  floors(
    ['src/kube/api/**/*.ts'],
    [upward('the core (src/, sidecar/)'), upward('src/kube/api', 'client|webhooks|controller|inspector')],
  ),
  floors(
    ['src/kube/client/**/*.ts'],
    [upward('the core (src/, sidecar/)'), upward('src/kube/client', 'webhooks|controller|inspector')],
  ),
  // Workflows run in Temporal's sandbox: deterministic, no I/O. Activities only as types.
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(
              '^\\.\\./(?!src/config/|src/base/(ids|duration|issues|round)\\.js$|src/temporal/names\\.js$|activities/)',
              'workflows import only pure modules: src/config, the workflow-safe src/base modules (ids, duration, issues, round), src/temporal/names (docs/architecture.md)',
            ),
            forbid(
              '^\\.\\./activities/',
              'workflows import activities only as `import type` (docs/architecture.md)',
              true,
            ),
            forbid('^node:', 'workflows run in the Temporal sandbox: no Node APIs'),
            forbid('^@temporalio/(client|worker|activity)$', 'workflows use @temporalio/workflow only'),
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'workflows load no module at run time' },
      ],
    },
  },
  floors(['activities/**/*.ts'], [upward('activities/', `workers|cli|${TOOLING}`)]),
  floors(['workers/**/*.ts'], [upward('workers/ (the image entry points)', `cli|${TOOLING}`)]),
  floors(['cli/**/*.ts'], [upward('cli/', TOOLING)]),
);
