import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : ['1', 'true', 'yes', 'on'].includes(String(value).toLowerCase());
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/** Every setting the service reads. Names and defaults are documented in `.env.example`. */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsInt() @Min(0) @Max(65535)
  PORT: number = 8000;

  @IsString()
  HOST: string = '0.0.0.0';

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE: number = 10;

  /** Per-statement limit on every pooled connection (PostgreSQL `statement_timeout`); 0 turns it off. */
  @IsInt() @Min(0) @Max(3600000)
  DB_STATEMENT_TIMEOUT_MS: number = 5000;

  /** How long a request waits for a new pool connection before 503 STORAGE_UNAVAILABLE. */
  @IsInt() @Min(100) @Max(120000)
  DB_CONNECT_TIMEOUT_MS: number = 5000;

  /**
   * How long a resolved caller (session, membership, grants; API key; agent) is reused, in ms; 0 resolves on every
   * request. Revocations reach every replica's cache at once through PostgreSQL notifications; this bounds a lost one.
   */
  @IsInt() @Min(0) @Max(1000)
  PRINCIPAL_CACHE_TTL_MS: number = 1000;

  /** Most callers kept in that cache per process. */
  @IsInt() @Min(1) @Max(1000000)
  PRINCIPAL_CACHE_MAX: number = 10000;

  /**
   * How far V8 lets the old generation grow past its live size before the next full collection, in percent (V8's
   * `--heap-growing-percent`); 0 keeps V8's own factor (up to 4×, i.e. a peak RSS near 320 MB under load here).
   */
  @IsInt() @Min(0) @Max(1000)
  HEAP_GROWING_PERCENT: number = 100;

  @IsString() @MinLength(1)
  DATA_DIR: string = './.data';

  @IsInt() @Min(1) @Max(65535)
  EMBEDDED_PG_PORT: number = 54329;

  @IsOptional() @Transform(emptyToUndefined)
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @IsInt() @Min(0) @Max(600)
  SHUTDOWN_GRACE_SECONDS: number = 25;

  /** The HTTP server under Nest: Express (the default the design names) or Fastify (`@nestjs/platform-fastify`). */
  @IsIn(['express', 'fastify'])
  HTTP_ADAPTER: 'express' | 'fastify' = 'express';

  /** How long an idle keep-alive connection stays open; above load balancers' idle timeouts (60 s is common). */
  @IsInt() @Min(1000) @Max(3600000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number = 65000;

  /** Production only: the secret `POST /api/v1/auth/setup` requires as `setup_token` (generated when unset). */
  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  SETUP_TOKEN?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  METRICS_TOKEN?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  TRUST_PROXY?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  @MinLength(32, { message: 'must be at least 32 bytes' })
  JWT_SECRET?: string;

  /** HS256 with JWT_SECRET, or RS256 with JWT_PRIVATE_KEY (then /.well-known/jwks.json serves the public key). */
  @IsIn(['HS256', 'RS256'])
  JWT_ALGORITHM: string = 'HS256';

  /** PEM (PKCS#8 or PKCS#1) RSA private key, ≥ 2048 bits; `\n` escapes are accepted. Required with RS256. */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  JWT_PRIVATE_KEY?: string;

  /** Rotation: earlier JWT_SECRET values, comma-separated; tokens they signed still verify (nothing new is signed). */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  JWT_SECRET_PREVIOUS?: string;

  /** Rotation: earlier RS256 keys (PEM, private or public; only the public half is kept), verified and served in the JWKS. */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  JWT_PRIVATE_KEY_PREVIOUS?: string;

  @IsString()
  JWT_ISSUER: string = 'countersign';

  @IsString()
  JWT_AUDIENCE: string = 'countersign-api';

  @IsInt() @Min(60) @Max(86400)
  ACCESS_TOKEN_TTL_SECONDS: number = 3600;

  @IsInt() @Min(300) @Max(31536000)
  REFRESH_TOKEN_TTL_SECONDS: number = 2592000;

  @IsInt() @Min(4) @Max(15)
  BCRYPT_COST: number = 12;

  @IsIn(['local'])
  KMS_PROVIDER: string = 'local';

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64-encoded' })
  KMS_MASTER_KEY?: string;

  @IsInt() @Min(1) @Max(999999999)
  KMS_KEY_VERSION: number = 1;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  @Matches(/^[1-9][0-9]{0,8}:[A-Za-z0-9+/]{43}=(,[1-9][0-9]{0,8}:[A-Za-z0-9+/]{43}=)*$/, {
    message: 'must be comma-separated version:key pairs (version ≥ 1, key 32 bytes base64)',
  })
  KMS_RETIRED_KEYS?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString() @MinLength(32, { message: 'must be at least 32 characters' })
  API_KEY_PEPPER?: string;

  /** Rotation: earlier API_KEY_PEPPER values, comma-separated; keys hashed under them still work and are re-hashed on use. */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  API_KEY_PEPPER_PREVIOUS?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be a 32-byte Ed25519 seed, base64-encoded' })
  AUDIT_SIGNING_KEY?: string;

  /** Rotation: earlier AUDIT_SIGNING_KEY seeds, comma-separated; checkpoints they signed still verify (only the public half is kept). */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  @Matches(/^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/, { message: 'must be comma-separated 32-byte Ed25519 seeds, base64-encoded' })
  AUDIT_SIGNING_KEY_PREVIOUS?: string;

  @IsOptional() @Transform(toBool) @IsBoolean()
  EXPOSE_DOCS?: boolean;

  @IsInt() @Min(1) @Max(1000000)
  RATE_LIMIT_AUTH: number = 10;

  @IsInt() @Min(1) @Max(1000000)
  RATE_LIMIT_AGENT: number = 600;

  @IsInt() @Min(1) @Max(1000000)
  RATE_LIMIT_DEFAULT: number = 100;

  @IsInt() @Min(60) @Max(2592000)
  IDEMPOTENCY_TTL_SECONDS: number = 86400;

  @IsInt() @Min(50) @Max(600000)
  AUDIT_SEAL_INTERVAL_MS: number = 1000;

  @IsInt() @Min(1) @Max(100000)
  AUDIT_SEAL_BATCH_SIZE: number = 5000;

  @IsOptional() @Transform(toBool) @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_NETWORKS?: boolean;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  PUBLIC_URL?: string;

  /** OIDC sign-in: accept http:// issuers on loopback addresses (tests, local development). https only otherwise. */
  @IsOptional() @Transform(toBool) @IsBoolean()
  OIDC_ALLOW_INSECURE_ISSUERS?: boolean;

  /** Where identity providers send the browser back (default: PUBLIC_URL + /api/v1/auth/oidc/callback). */
  @IsOptional() @Transform(emptyToUndefined) @IsString()
  OIDC_REDIRECT_URI?: string;

  @IsInt() @Min(50) @Max(600000)
  WEBHOOK_DISPATCH_INTERVAL_MS: number = 1000;

  @IsInt() @Min(10) @Max(3600000)
  WEBHOOK_RETRY_BASE_MS: number = 10000;

  @IsInt() @Min(5) @Max(3600)
  AGENT_OFFLINE_AFTER_SECONDS: number = 90;

  @IsInt() @Min(1) @Max(3600)
  JOB_LEASE_SECONDS: number = 60;

  @IsInt() @Min(1) @Max(20)
  JOB_MAX_ATTEMPTS: number = 3;

  @IsInt() @Min(50) @Max(600000)
  JOB_SWEEP_INTERVAL_MS: number = 1000;

  /** How often pending requests past their approval timeout are expired (one replica runs it). */
  @IsInt() @Min(50) @Max(600000)
  REQUEST_EXPIRY_INTERVAL_MS: number = 5000;

  /** How often expired idempotency records are purged (one replica runs it). */
  @IsInt() @Min(50) @Max(86400000)
  IDEMPOTENCY_PURGE_INTERVAL_MS: number = 600000;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  GIT_COMMIT?: string;

  @IsOptional() @Transform(emptyToUndefined) @IsString()
  BUILD_DATE?: string;
}
