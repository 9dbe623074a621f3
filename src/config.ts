// Owns the service's settings: one pure parser from an environment-like map to a typed, validated Config.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; schema: string | null; poolMax: number }
  // dataDir null keeps the embedded database in memory (tests).
  | { kind: 'pglite'; dataDir: string | null }

export interface AuthConfig {
  /** HS256 secret shared with the marketplace's auth service. */
  jwtSecret: string | null
  /** PEM public key for RS256/ES256 tokens; wins over jwtSecret when set. */
  jwtPublicKey: string | null
  userClaim: string
  issuer: string | null
  audience: string | null
  anonTokenSecret: string
  /** True when a secret fell back to a development default: logged loudly, refused in production. */
  usingDevSecrets: boolean
}

export interface RateLimitConfig {
  anonymousPerMinute: number
  createChatPerMinute: number
  sendPerMinute: number
  apiPerMinute: number
}

export interface WebSocketConfig {
  messageRate: number
  messageBurst: number
  typingRate: number
  heartbeatMs: number
  maxBufferedBytes: number
  typingTimeoutMs: number
  maxPayloadBytes: number
}

export interface ListingLookupConfig {
  urlTemplate: string
  timeoutMs: number
  cacheSeconds: number
}

export interface Config {
  port: number
  host: string
  nodeEnv: string
  logLevel: LogLevel
  logPretty: boolean
  database: DatabaseConfig
  migrateOnStart: boolean
  corsOrigins: string[]
  trustProxy: boolean
  bodyLimitBytes: number
  demo: boolean
  auth: AuthConfig
  rateLimit: RateLimitConfig
  ws: WebSocketConfig
  listingLookup: ListingLookupConfig | null
  redisUrl: string | null
  presenceTtlMs: number
  presenceHeartbeatMs: number
  metricsToken: string | null
  shutdownTimeoutMs: number
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] }

export type Env = Record<string, string | undefined>

// Development-only fallbacks so `npm start` works with nothing set; production refuses them.
const DEV_JWT_SECRET = 'dev-only-marketplace-jwt-secret-change-me'
const DEV_ANON_SECRET = 'dev-only-anonymous-token-secret-change-me'
const MIN_SECRET_LENGTH = 32
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Collects one readable line per bad variable instead of failing on the first. */
class EnvReader {
  readonly errors: string[] = []
  constructor (private readonly env: Env) {}

  raw (name: string): string | undefined {
    const value = this.env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }

  string (name: string, fallback: string): string {
    return this.raw(name) ?? fallback
  }

  optional (name: string): string | null {
    return this.raw(name) ?? null
  }

  int (name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name)
    if (value === undefined) return fallback
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.errors.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`)
      return fallback
    }
    return Number(value)
  }

  bool (name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase()
    if (value === undefined) return fallback
    if (['true', '1', 'yes', 'on'].includes(value)) return true
    if (['false', '0', 'no', 'off'].includes(value)) return false
    this.errors.push(`${name} must be true or false (got "${this.raw(name)}")`)
    return fallback
  }

  oneOf<T extends string> (name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name)
    if (value === undefined) return fallback
    if (!(allowed as readonly string[]).includes(value)) {
      this.errors.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`)
      return fallback
    }
    return value as T
  }

  url (name: string, protocols: string[]): string | null {
    const value = this.raw(name)
    if (value === undefined) return null
    let parsed: URL
    try {
      parsed = new URL(value)
    } catch {
      this.errors.push(`${name} must be a URL (${protocols.join(' or ')})`)
      return null
    }
    if (!protocols.includes(parsed.protocol)) {
      this.errors.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`)
      return null
    }
    return value
  }

  secret (name: string): string | null {
    const value = this.raw(name)
    if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
      this.errors.push(`${name} must be at least ${MIN_SECRET_LENGTH} characters long`)
    }
    return value ?? null
  }
}

function parseOrigins (reader: EnvReader): string[] {
  const value = reader.raw('CORS_ORIGINS')
  if (value === undefined) return []
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean)
  for (const origin of origins) {
    if (origin === '*') continue
    let parsed: URL | null = null
    try { parsed = new URL(origin) } catch {}
    if (parsed === null || parsed.origin !== origin) {
      reader.errors.push(`CORS_ORIGINS must be a comma-separated list of origins like https://shop.example.com (bad entry "${origin}")`)
    }
  }
  return origins
}

function parseAuth (reader: EnvReader, production: boolean): AuthConfig {
  const jwtSecret = reader.secret('AUTH_JWT_SECRET')
  const rawKey = reader.raw('AUTH_JWT_PUBLIC_KEY')
  // Env files cannot hold multi-line values everywhere, so \n escapes are accepted.
  const jwtPublicKey = rawKey === undefined ? null : rawKey.replace(/\\n/g, '\n')
  if (jwtPublicKey !== null && !jwtPublicKey.includes('-----BEGIN PUBLIC KEY-----')) {
    reader.errors.push('AUTH_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)')
  }
  const anonSecret = reader.secret('ANON_TOKEN_SECRET')
  if (jwtSecret !== null && anonSecret !== null && jwtSecret === anonSecret) {
    reader.errors.push('ANON_TOKEN_SECRET must differ from AUTH_JWT_SECRET, or anonymous tokens could pass as registered ones')
  }
  if (production && jwtSecret === null && jwtPublicKey === null) {
    reader.errors.push('AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY must be set when NODE_ENV=production')
  }
  if (production && anonSecret === null) {
    reader.errors.push('ANON_TOKEN_SECRET must be set when NODE_ENV=production')
  }
  const usingDevSecrets = (jwtSecret === null && jwtPublicKey === null) || anonSecret === null
  return {
    jwtSecret: jwtSecret ?? (jwtPublicKey === null ? DEV_JWT_SECRET : null),
    jwtPublicKey,
    userClaim: reader.string('AUTH_JWT_USER_CLAIM', 'sub'),
    issuer: reader.optional('AUTH_JWT_ISSUER'),
    audience: reader.optional('AUTH_JWT_AUDIENCE'),
    anonTokenSecret: anonSecret ?? DEV_ANON_SECRET,
    usingDevSecrets
  }
}

function parseListingLookup (reader: EnvReader): ListingLookupConfig | null {
  const urlTemplate = reader.url('LISTING_LOOKUP_URL', ['http:', 'https:'])
  if (urlTemplate === null) return null
  if (!urlTemplate.includes('{listing_id}')) {
    reader.errors.push('LISTING_LOOKUP_URL must contain the placeholder {listing_id}')
  }
  return {
    urlTemplate,
    timeoutMs: reader.int('LISTING_LOOKUP_TIMEOUT_MS', 2000, 50, 30_000),
    cacheSeconds: reader.int('LISTING_LOOKUP_CACHE_SECONDS', 60, 0, 86_400)
  }
}

/** Parses and validates every setting at once; never throws and never reads process.env itself. */
export function parseConfig (env: Env): ConfigResult {
  const reader = new EnvReader(env)
  const nodeEnv = reader.string('NODE_ENV', 'development')
  const production = nodeEnv === 'production'
  const databaseUrl = reader.url('DATABASE_URL', ['postgres:', 'postgresql:'])
  const database: DatabaseConfig = databaseUrl !== null
    ? { kind: 'postgres', url: databaseUrl, schema: null, poolMax: reader.int('DATABASE_POOL_MAX', 10, 1, 1000) }
    : { kind: 'pglite', dataDir: reader.string('DATA_DIR', './data') }
  const demo = reader.bool('DEMO_MODE', databaseUrl === null && !production)
  if (demo && production) {
    reader.errors.push('DEMO_MODE cannot be on when NODE_ENV=production (it mints tokens for anyone)')
  }

  const config: Config = {
    port: reader.int('PORT', 4000, 0, 65_535),
    host: reader.string('HOST', '0.0.0.0'),
    nodeEnv,
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logPretty: reader.bool('LOG_PRETTY', false),
    database,
    migrateOnStart: reader.bool('MIGRATE_ON_START', true),
    corsOrigins: parseOrigins(reader),
    trustProxy: reader.bool('TRUST_PROXY', false),
    bodyLimitBytes: reader.int('BODY_LIMIT_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    demo,
    auth: parseAuth(reader, production),
    rateLimit: {
      anonymousPerMinute: reader.int('RATE_LIMIT_ANONYMOUS_PER_MINUTE', 10, 1, 1_000_000),
      createChatPerMinute: reader.int('RATE_LIMIT_CREATE_CHAT_PER_MINUTE', 30, 1, 1_000_000),
      sendPerMinute: reader.int('RATE_LIMIT_SEND_PER_MINUTE', 120, 1, 1_000_000),
      apiPerMinute: reader.int('RATE_LIMIT_API_PER_MINUTE', 600, 1, 10_000_000)
    },
    ws: {
      messageRate: reader.int('WS_MESSAGE_RATE', 5, 1, 1_000_000),
      messageBurst: reader.int('WS_MESSAGE_BURST', 20, 1, 1_000_000),
      typingRate: reader.int('WS_TYPING_RATE', 2, 1, 1000),
      heartbeatMs: reader.int('WS_HEARTBEAT_MS', 30_000, 100, 600_000),
      maxBufferedBytes: reader.int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      typingTimeoutMs: reader.int('TYPING_TIMEOUT_MS', 6000, 100, 60_000),
      maxPayloadBytes: 16 * 1024
    },
    listingLookup: parseListingLookup(reader),
    redisUrl: reader.url('REDIS_URL', ['redis:', 'rediss:']),
    presenceTtlMs: reader.int('PRESENCE_TTL_MS', 30_000, 100, 3_600_000),
    presenceHeartbeatMs: reader.int('PRESENCE_HEARTBEAT_MS', 10_000, 50, 3_600_000),
    metricsToken: reader.optional('METRICS_TOKEN'),
    shutdownTimeoutMs: reader.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000)
  }
  if (config.presenceHeartbeatMs >= config.presenceTtlMs) {
    reader.errors.push('PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS')
  }
  return reader.errors.length > 0 ? { ok: false, errors: reader.errors } : { ok: true, config }
}
