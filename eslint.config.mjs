import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Architecture rules (see docs/adr/0001-layout-and-boundaries.md). Errors, not warnings:
// a boundary that only warns is a boundary nobody keeps.
const depConstraints = [
  // No app imports another app: role apps are put together only by @mqim/composition (below).
  // Listed as what an app may import (every tag but type:app): Nx checks notDependOnLibsWithTags
  // transitively, which would forbid the composers the composition package itself.
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:core',
      'type:adapter',
      'lib:delivery',
      'type:sdk',
      'type:testing',
      'type:composition',
    ],
  },
  { sourceTag: 'type:core', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:core', 'type:testing'] },
  // Delivery to the gates' topics, on the bus's generic publishers (the bus knows nothing of gates).
  { sourceTag: 'lib:delivery', onlyDependOnLibsWithTags: ['type:core', 'lib:bus'] },
  { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['lib:protocol'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:core', 'type:adapter', 'type:sdk'] },
  // The connection tier never touches storage: adding or killing a gate must be cheap and safe.
  { sourceTag: 'role:gate', onlyDependOnLibsWithTags: ['type:core', 'lib:bus', 'lib:cache', 'type:testing'] },
  {
    sourceTag: 'role:logic',
    onlyDependOnLibsWithTags: ['type:core', 'type:adapter', 'lib:delivery', 'type:testing', 'type:sdk'],
  },
  {
    sourceTag: 'role:job',
    onlyDependOnLibsWithTags: ['type:core', 'type:adapter', 'lib:delivery', 'type:testing', 'type:sdk'],
  },
  {
    sourceTag: 'role:api',
    onlyDependOnLibsWithTags: ['type:core', 'type:adapter', 'lib:delivery', 'type:testing', 'type:sdk'],
  },
  // The web chat runs in a browser: the SDK's browser entry and the protocol (its tests: the harness).
  { sourceTag: 'role:web', onlyDependOnLibsWithTags: ['type:sdk', 'lib:protocol', 'type:testing'] },
  // The one package that imports role apps (their public entry): adapter factories, role
  // composition, role start-up and the standalone, shared by both composers.
  {
    sourceTag: 'type:composition',
    onlyDependOnLibsWithTags: [
      'type:core',
      'type:adapter',
      'type:sdk',
      'lib:delivery',
      'role:gate',
      'role:logic',
      'role:job',
      'role:api',
      'role:web',
      'type:testing',
    ],
  },
  // The composers (standalone, cli) reach the roles only through @mqim/composition.
  {
    sourceTag: 'role:composer',
    onlyDependOnLibsWithTags: ['type:core', 'type:adapter', 'type:sdk', 'type:composition', 'type:testing'],
  },
];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', 'data/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { allow: [], depConstraints, enforceBuildableLibDependency: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
      'no-console': 'off',
    },
  },
  {
    // Test helpers stay out of production code.
    files: ['**/*.ts'],
    ignores: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      '**/testing/**',
      'packages/testing/**',
      'bench/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@mqim/testing', '@mqim/*/testing'], message: 'testing helpers are for tests only' },
          ],
        },
      ],
      // A session type is SessionType.SINGLE / GROUP (@mqim/protocol), defined once (issue 15 #6).
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "BinaryExpression[operator=/^[!=]==$/][right.type='Literal'][right.raw=/^[12]$/]:matches([left.name=/[sS]essionType$/], [left.property.name=/[sS]essionType$/])",
          message: 'compare session types with SessionType.SINGLE / SessionType.GROUP from @mqim/protocol',
        },
      ],
    },
  },
  prettier,
];
