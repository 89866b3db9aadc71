// Three tiers (STYLE.md): unit (pure code, fakes), medium (services + real PostgreSQL), e2e (HTTP against the real app).
// Medium and e2e share one PostgreSQL (embedded unless DATABASE_URL is set); each test file gets its own database.
const swaggerPlugin = { path: '<rootDir>/test/helpers/swagger-transformer.js' };
// openid-client v6 and its dependencies are ES modules only: compiled to CommonJS for Jest (test/helpers/esm-to-cjs-transformer.js).
const ESM_ONLY = ['openid-client', 'oauth4webapi', 'jose'];
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', astTransformers: { before: [swaggerPlugin] } }],
  [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: '<rootDir>/test/helpers/esm-to-cjs-transformer.js',
};
const common = {
  rootDir: __dirname,
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
  testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'],
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`] };
const withDatabase = {
  ...common,
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
};

module.exports = {
  // Tests run on busy 2-core machines next to PostgreSQL: a test's own deadlines (polls) decide, not Jest's 5 s.
  testTimeout: 120_000,
  // One worker on 2 cores, recycled once it holds more than this after a file: in band, one process kept every file's
  // modules and reached 4 GB, and the fuzz files then spent their time in GC (644 s instead of ~170 s).
  workerIdleMemoryLimit: '1536MB',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/agent/**/*.spec.ts'] },
    { ...withDatabase, displayName: 'medium', testMatch: ['<rootDir>/test/medium/**/*.medium-spec.ts'] },
    { ...withDatabase, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
