import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { EnvironmentVariables } from './env.schema';
import { loadOrCreateLocalSecrets, LocalSecrets } from './local-secrets';

/** Typed, validated configuration. Built once at start; injected as `AppConfig`. */
export class AppConfig {
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  /** Undefined until the embedded database has been started (see `main.ts`). */
  databaseUrl?: string;
  readonly databasePoolSize: number;
  /** PostgreSQL `statement_timeout` of the app's pool, in ms (0: none). Migrations run without it. */
  readonly dbStatementTimeoutMs: number;
  /** How long the pool waits to open a connection (pg `connectionTimeoutMillis`). */
  readonly dbConnectTimeoutMs: number;
  /** Resolved principals are reused this long (ms; 0: never), invalidated at once by revoking writes. */
  readonly principalCacheTtlMs: number;
  readonly principalCacheMax: number;
  /** V8's old-generation growth before a full GC, in percent (0: V8's default); applied by main.ts at start. */
  readonly heapGrowingPercent: number;
  readonly dataDir: string;
  readonly embeddedPgPort: number;
  readonly redisUrl?: string;
  readonly logLevel: string;
  readonly shutdownGraceSeconds: number;
  /** Express (default) or Fastify under Nest; both serve the same API (src/common/http). */
  readonly httpAdapter: 'express' | 'fastify';
  /** The HTTP server's `keepAliveTimeout`; `headersTimeout` is set 1 s above it. */
  readonly httpKeepAliveTimeoutMs: number;
  /** NODE_ENV=production: the configured setup token (otherwise one is generated while setup is pending). */
  readonly setupToken?: string;
  readonly metricsToken?: string;
  readonly trustProxy?: string;
  readonly jwt: {
    algorithm: 'HS256' | 'RS256';
    secret: string;
    /** RS256: the signing key and its public half (PEM), key id and JWK. */
    asymmetric?: { privateKeyPem: string; publicKeyPem: string; kid: string; jwk: RsaPublicJwk };
    /** Rotation, HS256: earlier secrets that still verify (never sign). */
    previousSecrets: string[];
    /** Rotation, RS256: earlier public keys that still verify and are served in the JWKS. */
    previousPublicKeys: RsaPublicKey[];
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  /** `masterKey` has version `keyVersion`; retired keys only unwrap (rotation without re-encrypting everything). */
  readonly kms: { provider: 'local'; masterKey: string; keyVersion: number; retiredKeys: { version: number; key: string }[] };
  readonly apiKeyPepper: string;
  /** Earlier peppers: keys hashed under one still authenticate and are re-hashed under `apiKeyPepper` on use. */
  readonly apiKeyPepperPrevious: string[];
  readonly bcryptCost: number;
  readonly auditSigningKey: string;
  /** Earlier signing seeds: checkpoints they signed still verify. */
  readonly auditSigningKeyPrevious: string[];
  readonly exposeDocs: boolean;
  /** Requests per minute per class (SPEC §1). */
  readonly rateLimits: { auth: number; agent: number; default: number };
  readonly idempotencyTtlSeconds: number;
  /** How often expired idempotency records are purged. */
  readonly idempotencyPurgeIntervalMs: number;
  /** How often pending requests past their approval timeout are expired. */
  readonly requestExpiryIntervalMs: number;
  readonly auditSealIntervalMs: number;
  /** Events chained per sealer transaction. */
  readonly auditSealBatchSize: number;
  readonly agents: { offlineAfterSeconds: number };
  /** Outgoing webhooks (SPEC §3): private targets only with the override; `retryBaseMs` is the first back-off step. */
  readonly webhooks: { allowPrivateNetworks: boolean; dispatchIntervalMs: number; retryBaseMs: number };
  /** Where people reach the console/API, for links in notifications. */
  readonly publicUrl: string | null;
  /** OIDC sign-in: the redirect URI registered at providers (null: not configured), and whether http loopback issuers are accepted. */
  readonly oidc: { redirectUri: string | null; allowInsecureIssuers: boolean };
  readonly jobs: { leaseSeconds: number; maxAttempts: number; sweepIntervalMs: number };
  readonly build: { commit?: string; date?: string };
  /** Names of the keys generated under DATA_DIR because they were not configured. */
  readonly generatedSecrets: string[];

  constructor(init: Omit<AppConfig, never>) {
    Object.assign(this, init);
  }
}

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

function firstProblem(errors: ValidationError[]): ConfigError {
  const [first] = errors;
  const constraints = first.constraints ?? {};
  // Type errors explain more than range errors ("must be an integer" beats "must not be greater than" for "abc").
  const key = ['isInt', 'isBoolean', 'isIn', 'matches', 'isString'].find((k) => k in constraints) ?? Object.keys(constraints)[0];
  const problem = (key && constraints[key]) || 'is invalid';
  // class-validator messages start with the property name ("PORT must be…"); keep one name only.
  const text = problem.startsWith(first.property) ? problem.slice(first.property.length).trim() : problem;
  return new ConfigError(first.property, text);
}

/** The public JWK of an RS256 key, as `/.well-known/jwks.json` publishes it. */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  alg: 'RS256';
  use: 'sig';
  kid: string;
}

export interface RsaPublicKey {
  publicKeyPem: string;
  kid: string;
  jwk: RsaPublicJwk;
}

/** An RSA public key (≥ 2048 bits) as PEM, its RFC 7638 thumbprint as key id, and its JWK. */
function rsaPublicKey(key: KeyObject, variable: string): RsaPublicKey {
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(variable, 'must be an RSA key of at least 2048 bits');
  }
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const kid = createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
  return { publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(), kid, jwk: { kty: 'RSA', n, e, alg: 'RS256', use: 'sig', kid } };
}

/** The RS256 signing key, its PEM public key, an RFC 7638 thumbprint as key id, and the public JWK. */
function rsaSigningKey(pem: string): NonNullable<AppConfig['jwt']['asymmetric']> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  } catch {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is not a PEM private key');
  }
  return { privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(), ...rsaPublicKey(key, 'JWT_PRIVATE_KEY') };
}

/** `JWT_PRIVATE_KEY_PREVIOUS`: PEM blocks (private or public keys; `\n` escapes accepted) → their public halves. */
function previousRsaKeys(value: string | undefined, current: RsaPublicKey | undefined): RsaPublicKey[] {
  if (!value) return [];
  const blocks = value.replace(/\\n/g, '\n').match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g);
  if (!blocks) throw new ConfigError('JWT_PRIVATE_KEY_PREVIOUS', 'must hold PEM keys');
  const keys = blocks.map((pem) => {
    let key: KeyObject;
    try {
      key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem);
    } catch {
      throw new ConfigError('JWT_PRIVATE_KEY_PREVIOUS', 'holds a block that is not a PEM key');
    }
    return rsaPublicKey(key, 'JWT_PRIVATE_KEY_PREVIOUS');
  });
  return distinctFrom(keys, current, (k) => k.kid, 'JWT_PRIVATE_KEY_PREVIOUS');
}

/** A comma-separated list of earlier values of a key (`<NAME>_PREVIOUS`): each at least `minLength`, none repeated. */
function previousValues(variable: string, value: string | undefined, current: string, minLength: number): string[] {
  if (!value) return [];
  const values = value.split(',').map((v) => v.trim());
  if (values.some((v) => v.length < minLength)) throw new ConfigError(variable, `must be comma-separated values of at least ${minLength} characters each`);
  return distinctFrom(values, current, (v) => v, variable);
}

function distinctFrom<T>(items: T[], current: T | undefined, id: (item: T) => string, variable: string): T[] {
  const seen = new Set<string>(current === undefined ? [] : [id(current)]);
  for (const item of items) {
    if (seen.has(id(item))) throw new ConfigError(variable, 'repeats a key (or holds the current one)');
    seen.add(id(item));
  }
  return items;
}

/**
 * Validates the environment and returns the configuration. Throws `ConfigError` naming the first bad variable.
 * Outside production, missing keys are generated once and kept under DATA_DIR with owner-only permissions.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw = plainToInstance(EnvironmentVariables, { ...env }, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(raw, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0) throw firstProblem(errors);

  const dataDir = path.resolve(raw.DATA_DIR);
  const retiredKeys = parseRetiredKeys(raw.KMS_RETIRED_KEYS, raw.KMS_KEY_VERSION);
  let secrets: LocalSecrets = {
    JWT_SECRET: raw.JWT_SECRET,
    KMS_MASTER_KEY: raw.KMS_MASTER_KEY,
    API_KEY_PEPPER: raw.API_KEY_PEPPER,
    AUDIT_SIGNING_KEY: raw.AUDIT_SIGNING_KEY,
  };
  let generated: string[] = [];
  const missing = (Object.keys(secrets) as (keyof LocalSecrets)[]).filter((k) => !secrets[k]);
  if (missing.length > 0) {
    if (raw.NODE_ENV === 'production') throw new ConfigError(missing[0], 'is required when NODE_ENV=production');
    ({ secrets, generated } = loadOrCreateLocalSecrets(dataDir, secrets));
  }
  const secret = (name: keyof LocalSecrets): string => {
    const value = secrets[name];
    if (!value) throw new ConfigError(name, 'is required (neither set nor generated)');
    return value;
  };

  const jwtAlgorithm = raw.JWT_ALGORITHM as 'HS256' | 'RS256';
  let asymmetric: AppConfig['jwt']['asymmetric'];
  if (jwtAlgorithm === 'RS256') {
    if (!raw.JWT_PRIVATE_KEY) throw new ConfigError('JWT_PRIVATE_KEY', 'is required when JWT_ALGORITHM=RS256');
    asymmetric = rsaSigningKey(raw.JWT_PRIVATE_KEY);
    if (raw.JWT_SECRET_PREVIOUS) throw new ConfigError('JWT_SECRET_PREVIOUS', 'applies only with JWT_ALGORITHM=HS256');
  } else if (raw.JWT_PRIVATE_KEY_PREVIOUS) {
    throw new ConfigError('JWT_PRIVATE_KEY_PREVIOUS', 'applies only with JWT_ALGORITHM=RS256');
  }

  return new AppConfig({
    nodeEnv: raw.NODE_ENV,
    port: raw.PORT,
    host: raw.HOST,
    databaseUrl: raw.DATABASE_URL,
    databasePoolSize: raw.DATABASE_POOL_SIZE,
    dbStatementTimeoutMs: raw.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: raw.DB_CONNECT_TIMEOUT_MS,
    principalCacheTtlMs: raw.PRINCIPAL_CACHE_TTL_MS,
    principalCacheMax: raw.PRINCIPAL_CACHE_MAX,
    heapGrowingPercent: raw.HEAP_GROWING_PERCENT,
    dataDir,
    embeddedPgPort: raw.EMBEDDED_PG_PORT,
    redisUrl: raw.REDIS_URL,
    logLevel: raw.LOG_LEVEL,
    shutdownGraceSeconds: raw.SHUTDOWN_GRACE_SECONDS,
    httpAdapter: raw.HTTP_ADAPTER,
    httpKeepAliveTimeoutMs: raw.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    setupToken: raw.SETUP_TOKEN,
    metricsToken: raw.METRICS_TOKEN,
    trustProxy: raw.TRUST_PROXY,
    jwt: {
      algorithm: jwtAlgorithm,
      asymmetric,
      secret: secret('JWT_SECRET'),
      previousSecrets: previousValues('JWT_SECRET_PREVIOUS', raw.JWT_SECRET_PREVIOUS, secret('JWT_SECRET'), 32),
      previousPublicKeys: previousRsaKeys(raw.JWT_PRIVATE_KEY_PREVIOUS, asymmetric),
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE,
      accessTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
    },
    kms: { provider: 'local', masterKey: secret('KMS_MASTER_KEY'), keyVersion: raw.KMS_KEY_VERSION, retiredKeys },
    apiKeyPepper: secret('API_KEY_PEPPER'),
    apiKeyPepperPrevious: previousValues('API_KEY_PEPPER_PREVIOUS', raw.API_KEY_PEPPER_PREVIOUS, secret('API_KEY_PEPPER'), 32),
    bcryptCost: raw.BCRYPT_COST,
    auditSigningKey: secret('AUDIT_SIGNING_KEY'),
    auditSigningKeyPrevious: previousValues('AUDIT_SIGNING_KEY_PREVIOUS', raw.AUDIT_SIGNING_KEY_PREVIOUS, secret('AUDIT_SIGNING_KEY'), 44),
    exposeDocs: raw.EXPOSE_DOCS ?? true,
    rateLimits: { auth: raw.RATE_LIMIT_AUTH, agent: raw.RATE_LIMIT_AGENT, default: raw.RATE_LIMIT_DEFAULT },
    idempotencyTtlSeconds: raw.IDEMPOTENCY_TTL_SECONDS,
    idempotencyPurgeIntervalMs: raw.IDEMPOTENCY_PURGE_INTERVAL_MS,
    requestExpiryIntervalMs: raw.REQUEST_EXPIRY_INTERVAL_MS,
    auditSealIntervalMs: raw.AUDIT_SEAL_INTERVAL_MS,
    auditSealBatchSize: raw.AUDIT_SEAL_BATCH_SIZE,
    agents: { offlineAfterSeconds: raw.AGENT_OFFLINE_AFTER_SECONDS },
    webhooks: { allowPrivateNetworks: raw.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? false, dispatchIntervalMs: raw.WEBHOOK_DISPATCH_INTERVAL_MS, retryBaseMs: raw.WEBHOOK_RETRY_BASE_MS },
    publicUrl: raw.PUBLIC_URL ?? null,
    oidc: {
      redirectUri: raw.OIDC_REDIRECT_URI ?? (raw.PUBLIC_URL ? `${raw.PUBLIC_URL.replace(/\/+$/, '')}/api/v1/auth/oidc/callback` : null),
      allowInsecureIssuers: raw.OIDC_ALLOW_INSECURE_ISSUERS ?? false,
    },
    jobs: { leaseSeconds: raw.JOB_LEASE_SECONDS, maxAttempts: raw.JOB_MAX_ATTEMPTS, sweepIntervalMs: raw.JOB_SWEEP_INTERVAL_MS },
    build: { commit: raw.GIT_COMMIT, date: raw.BUILD_DATE },
    generatedSecrets: generated,
  });
}

/** `KMS_RETIRED_KEYS` (`version:base64key,…`, shape already validated) → entries; versions distinct from each other and the current one. */
function parseRetiredKeys(value: string | undefined, currentVersion: number): { version: number; key: string }[] {
  if (!value) return [];
  const seen = new Set<number>([currentVersion]);
  return value.split(',').map((pair) => {
    const [version, key] = pair.split(':');
    const n = Number(version);
    if (seen.has(n)) throw new ConfigError('KMS_RETIRED_KEYS', `lists key version ${n} twice (or it is KMS_KEY_VERSION)`);
    seen.add(n);
    return { version: n, key };
  });
}
