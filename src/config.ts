// Owns the service's settings: one pure parser from an environment-like map to a typed, validated Config.
import { TYPING_TIMEOUT_MS } from './protocol/limits.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export type DatabaseConfig =
  | {
    kind: 'postgres'; url: string; schema: string | null; poolMax: number
    /** How long getting a connection may take (a new one, or a free one from a busy pool); default 2000 (database.ts). */
    connectTimeoutMs?: number
    /** Server-side statement_timeout, and (plus a second) the client-side bound on any answer; 0 = none; default 5000. */
    statementTimeoutMs?: number
  }
  // dataDir null keeps the embedded database in memory (tests).
  | {
    kind: 'pglite'; dataDir: string | null
    /** Run PGlite on a worker thread (PGLITE_WORKER, a prototype); off by default. */
    worker?: boolean
  }

export interface AuthConfig {
  /** HS256 secret shared with the marketplace's auth service. */
  jwtSecret: string | null
  /** PEM public key for RS256/ES256 tokens; wins over jwtSecret when set. */
  jwtPublicKey: string | null
  userClaim: string
  /** The claim holding the user's display name (shown to the other side of their chats). */
  nameClaim: string
  issuer: string | null
  audience: string | null
  anonTokenSecret: string
  /** The claim listing a registered user's roles (an array); "chat_moderator" in it makes a moderator. */
  rolesClaim: string
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
  /** Open sockets (chat and inbox together) one person may hold across every instance. */
  maxSocketsPerUser: number
}

export type ContactFilterMode = 'off' | 'flag' | 'mask' | 'block'

export interface SafetyConfig {
  /** What happens to phone numbers, e-mails, links and messenger handles in messages (see src/safety/contact-filter.ts). */
  contactFilter: ContactFilterMode
  /** Whose messages the filter checks: guests only, or everyone. */
  contactFilterScope: 'guests' | 'all'
  /** New chats one guest may open per rolling hour. */
  chatsPerHour: number
  /** Different chats one person may send the same (normalized) text to within 10 minutes; 0 turns the check off. */
  spamSameTextChats: number
}

export interface ListingLookupConfig {
  urlTemplate: string
  timeoutMs: number
  cacheSeconds: number
}

/** Unread notifications (src/notify/): on when a webhook URL or VAPID keys are set. */
export interface NotifyConfig {
  delaySeconds: number
  /** How often each instance's worker looks for due notifications and deliveries. */
  pollIntervalMs: number
  webhookUrl: string | null
  /** Standard Webhooks secret, whsec_<base64>. */
  webhookSecret: string | null
  webhookTimeoutMs: number
  retryBaseSeconds: number
  retryHours: number
  webPush: { publicKey: string, privateKey: string, subject: string } | null
  /** Tests only: push endpoints may be http and on loopback/private addresses. */
  allowInsecurePushEndpoints: boolean
  /** Bearer token of the /admin/notifications endpoints; null: they answer 401. */
  adminToken: string | null
}

export interface S3Config {
  bucket: string
  endpoint: string | null
  region: string
  accessKeyId: string | null
  secretAccessKey: string | null
  forcePathStyle: boolean
}

export interface AttachmentsConfig {
  /** Where photo bytes live: a bytea table (works on PGlite and across instances) or an S3-compatible bucket. */
  storage: 'database' | 's3'
  s3: S3Config | null
  maxBytes: number
  perHour: number
  urlTtlSeconds: number
  /** Uploads no message uses are deleted after this long. */
  unusedTtlSeconds: number
  sweepIntervalMs: number
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
  safety: SafetyConfig
  redisUrl: string | null
  /** Put in front of every Redis channel and key, so several deployments can share one Redis. */
  redisKeyPrefix: string
  presenceTtlMs: number
  presenceHeartbeatMs: number
  metricsToken: string | null
  shutdownTimeoutMs: number
  notify: NotifyConfig,
  attachments: AttachmentsConfig
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] }

export type Env = Record<string, string | undefined>

// Development-only fallbacks so `npm start` works with nothing set; production refuses them.
const DEV_JWT_SECRET = 'dev-only-marketplace-jwt-secret-change-me'
const DEV_ANON_SECRET = 'dev-only-anonymous-token-secret-change-me'
const MIN_SECRET_LENGTH = 32
const REDIS_KEY_PREFIX_PATTERN = /^[\w:.-]{1,64}$/
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
    nameClaim: reader.string('AUTH_JWT_NAME_CLAIM', 'name'),
    issuer: reader.optional('AUTH_JWT_ISSUER'),
    audience: reader.optional('AUTH_JWT_AUDIENCE'),
    anonTokenSecret: anonSecret ?? DEV_ANON_SECRET,
    rolesClaim: reader.string('AUTH_JWT_ROLES_CLAIM', 'roles'),
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

function parseAttachments (reader: EnvReader): AttachmentsConfig {
  const storage = reader.oneOf('ATTACHMENT_STORAGE', ['database', 's3'] as const, 'database')
  let s3: S3Config | null = null
  if (storage === 's3') {
    const bucket = reader.optional('S3_BUCKET')
    if (bucket === null) reader.errors.push('S3_BUCKET must be set when ATTACHMENT_STORAGE=s3')
    s3 = {
      bucket: bucket ?? '',
      endpoint: reader.url('S3_ENDPOINT', ['http:', 'https:']),
      region: reader.string('S3_REGION', 'us-east-1'),
      accessKeyId: reader.optional('S3_ACCESS_KEY_ID'),
      secretAccessKey: reader.optional('S3_SECRET_ACCESS_KEY'),
      forcePathStyle: reader.bool('S3_FORCE_PATH_STYLE', false)
    }
  }
  return {
    storage,
    s3,
    maxBytes: reader.int('ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    perHour: reader.int('ATTACHMENTS_PER_HOUR', 60, 1, 1_000_000),
    urlTtlSeconds: reader.int('ATTACHMENT_URL_TTL_SECONDS', 3600, 10, 7 * 86_400),
    unusedTtlSeconds: 24 * 3600,
    sweepIntervalMs: 10 * 60_000
  }
}

/** Parses and validates every setting at once; never throws and never reads process.env itself. */
function parseNotify (reader: EnvReader, production: boolean): NotifyConfig {
  const webhookUrl = reader.url('NOTIFY_WEBHOOK_URL', ['https:', 'http:'])
  const webhookSecret = reader.optional('NOTIFY_WEBHOOK_SECRET')
  if (webhookUrl !== null && webhookSecret === null) reader.errors.push('NOTIFY_WEBHOOK_SECRET must be set when NOTIFY_WEBHOOK_URL is')
  if (webhookSecret !== null && !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(webhookSecret)) {
    reader.errors.push('NOTIFY_WEBHOOK_SECRET must be whsec_ followed by base64 (at least 12 bytes)')
  }
  const publicKey = reader.optional('WEB_PUSH_PUBLIC_KEY')
  const privateKey = reader.optional('WEB_PUSH_PRIVATE_KEY')
  const subject = reader.optional('WEB_PUSH_SUBJECT')
  const pushSet = [publicKey, privateKey, subject].filter((v) => v !== null).length
  if (pushSet !== 0 && pushSet !== 3) reader.errors.push('WEB_PUSH_PUBLIC_KEY, WEB_PUSH_PRIVATE_KEY and WEB_PUSH_SUBJECT must be set together')
  if (subject !== null && !/^(mailto:|https:\/\/)/.test(subject)) reader.errors.push('WEB_PUSH_SUBJECT must be a mailto: or https:// URL')
  const allowInsecurePushEndpoints = reader.bool('WEB_PUSH_ALLOW_INSECURE_ENDPOINTS', false)
  if (allowInsecurePushEndpoints && production) reader.errors.push('WEB_PUSH_ALLOW_INSECURE_ENDPOINTS cannot be on when NODE_ENV=production')
  return {
    delaySeconds: reader.int('NOTIFY_DELAY_SECONDS', 60, 0, 86_400),
    pollIntervalMs: reader.int('NOTIFY_POLL_INTERVAL_MS', 1000, 10, 600_000),
    webhookUrl,
    webhookSecret,
    webhookTimeoutMs: reader.int('NOTIFY_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    retryBaseSeconds: reader.int('NOTIFY_WEBHOOK_RETRY_BASE_SECONDS', 5, 0, 86_400),
    retryHours: reader.int('NOTIFY_WEBHOOK_RETRY_HOURS', 24, 0, 24 * 30),
    webPush: publicKey !== null && privateKey !== null && subject !== null ? { publicKey, privateKey, subject } : null,
    allowInsecurePushEndpoints,
    adminToken: reader.optional('ADMIN_TOKEN')
  }
}

export function parseConfig (env: Env): ConfigResult {
  const reader = new EnvReader(env)
  const nodeEnv = reader.string('NODE_ENV', 'development')
  const production = nodeEnv === 'production'
  const databaseUrl = reader.url('DATABASE_URL', ['postgres:', 'postgresql:'])
  const database: DatabaseConfig = databaseUrl !== null
    ? { kind: 'postgres', url: databaseUrl, schema: null, poolMax: reader.int('DATABASE_POOL_MAX', 10, 1, 1000) }
    : { kind: 'pglite', dataDir: reader.string('DATA_DIR', './data'), worker: reader.bool('PGLITE_WORKER', false) }
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
      typingTimeoutMs: reader.int('TYPING_TIMEOUT_MS', TYPING_TIMEOUT_MS, 100, 60_000),
      maxPayloadBytes: 16 * 1024,
      maxSocketsPerUser: reader.int('WS_MAX_SOCKETS_PER_USER', 20, 1, 10_000)
    },
    listingLookup: parseListingLookup(reader),
    safety: {
      contactFilter: reader.oneOf('CONTACT_FILTER', ['off', 'flag', 'mask', 'block'] as const, 'flag'),
      contactFilterScope: reader.oneOf('CONTACT_FILTER_SCOPE', ['guests', 'all'] as const, 'guests'),
      chatsPerHour: reader.int('CHATS_PER_HOUR', 20, 1, 1_000_000),
      spamSameTextChats: reader.int('SPAM_SAME_TEXT_CHATS', 5, 0, 1_000_000)
    },
    redisUrl: reader.url('REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: reader.string('REDIS_KEY_PREFIX', 'chat:v1:'),
    presenceTtlMs: reader.int('PRESENCE_TTL_MS', 30_000, 100, 3_600_000),
    presenceHeartbeatMs: reader.int('PRESENCE_HEARTBEAT_MS', 10_000, 50, 3_600_000),
    metricsToken: reader.optional('METRICS_TOKEN'),
    shutdownTimeoutMs: reader.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    notify: parseNotify(reader, production),
    attachments: parseAttachments(reader)
  }
  if (!REDIS_KEY_PREFIX_PATTERN.test(config.redisKeyPrefix)) {
    reader.errors.push(`REDIS_KEY_PREFIX must be 1 to 64 letters, digits or :_.- (got "${config.redisKeyPrefix}")`)
  }
  if (config.presenceHeartbeatMs >= config.presenceTtlMs) {
    reader.errors.push('PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS')
  }
  return reader.errors.length > 0 ? { ok: false, errors: reader.errors } : { ok: true, config }
}
