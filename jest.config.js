// One jest run, three projects: unit specs (no network), integration specs against real
// RocketMQ / MariaDB / Redis, and end-to-end specs that start real processes.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = `<rootDir>/${target}`;
}

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // A few dependencies ship ESM only; jest runs CommonJS, so swc converts them.
    '^.+/node_modules/(kysely|cookie)/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(kysely|cookie)/)'],
  moduleNameMapper,
  roots: ['<rootDir>/apps', '<rootDir>/packages', '<rootDir>/bench', '<rootDir>/examples'],
};

// testTimeout is a global option (ignored inside projects); integration and e2e projects raise it
// in jest.slow-setup.js.
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.spec.ts'] },
    {
      ...base,
      displayName: 'int',
      testMatch: ['**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-setup.js'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-setup.js'],
    },
  ],
};
