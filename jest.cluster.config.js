// `npm run test:cluster` (issue 13): several real replicas of the built app on one PostgreSQL behind a round-robin
// proxy, with reference agents. Not part of the default `jest` run (jest.config.js's projects do not match these files).
// One file at a time: each starts its own cluster, and the machine has 2 cores.
module.exports = {
  rootDir: __dirname,
  displayName: 'cluster',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.cluster-spec.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  maxWorkers: 1,
  // Every wait inside has its own deadline; this only stops a hung file.
  testTimeout: 240_000,
};
