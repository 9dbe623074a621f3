// Config parsing: defaults that start the service with nothing set, and one readable line per bad variable.
import t from 'tap'
import { parseConfig } from '../src/config.js'

const SECRET_A = 'a'.repeat(32)
const SECRET_B = 'b'.repeat(32)

function errorsOf (env: Record<string, string>): string[] {
  const result = parseConfig(env)
  return result.ok ? [] : result.errors
}

t.test('nothing set: embedded database, port 4000, demo mode, development secrets flagged', async (t) => {
  const result = parseConfig({})
  if (!result.ok) throw new Error(result.errors.join())
  t.equal(result.config.port, 4000)
  t.same(result.config.database, { kind: 'pglite', dataDir: './data', worker: false })
  t.equal(result.config.demo, true)
  t.equal(result.config.migrateOnStart, true)
  t.equal(result.config.auth.usingDevSecrets, true)
  t.same(result.config.corsOrigins, [])
})

t.test('PGLITE_WORKER runs the embedded database on a worker thread', async (t) => {
  const result = parseConfig({ PGLITE_WORKER: 'true', DATA_DIR: '/srv/chat' })
  if (!result.ok) throw new Error(result.errors.join())
  t.same(result.config.database, { kind: 'pglite', dataDir: '/srv/chat', worker: true })
  t.same(errorsOf({ PGLITE_WORKER: 'sometimes' }), ['PGLITE_WORKER must be true or false (got "sometimes")'])
})

t.test('DATABASE_URL selects Postgres and turns demo mode off by default', async (t) => {
  const result = parseConfig({ DATABASE_URL: 'postgres://u@db:5432/chat' })
  if (!result.ok) throw new Error(result.errors.join())
  t.match(result.config.database, { kind: 'postgres', url: 'postgres://u@db:5432/chat' })
  t.equal(result.config.demo, false)
})

t.test('each bad value gives its own message', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'abc' }, /^PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be a whole number/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL must be a URL/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ CORS_ORIGINS: 'https://ok.example,shop.example' }, /^CORS_ORIGINS must be a comma-separated list of origins.*"shop.example"/],
    [{ MIGRATE_ON_START: 'maybe' }, /^MIGRATE_ON_START must be true or false/],
    [{ AUTH_JWT_SECRET: 'short' }, /^AUTH_JWT_SECRET must be at least 32 characters long$/],
    [{ AUTH_JWT_PUBLIC_KEY: 'nonsense' }, /^AUTH_JWT_PUBLIC_KEY must be a PEM public key/],
    [{ AUTH_JWT_SECRET: SECRET_A, ANON_TOKEN_SECRET: SECRET_A }, /^ANON_TOKEN_SECRET must differ from AUTH_JWT_SECRET/],
    [{ NODE_ENV: 'production', ANON_TOKEN_SECRET: SECRET_B }, /^AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY must be set when NODE_ENV=production$/],
    [{ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET_A }, /^ANON_TOKEN_SECRET must be set when NODE_ENV=production$/],
    [{ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET_A, ANON_TOKEN_SECRET: SECRET_B, DEMO_MODE: 'true' }, /^DEMO_MODE cannot be on when NODE_ENV=production/],
    [{ LISTING_LOOKUP_URL: 'https://shop.example/api/listings/' }, /^LISTING_LOOKUP_URL must contain the placeholder \{listing_id\}$/],
    [{ REDIS_URL: 'http://cache' }, /^REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    [{ REDIS_KEY_PREFIX: 'chat v1' }, /^REDIS_KEY_PREFIX must be 1 to 64 letters, digits or :_.- \(got "chat v1"\)$/],
    [{ WS_MESSAGE_RATE: '0' }, /^WS_MESSAGE_RATE must be a whole number from 1/],
    [{ WS_MAX_SOCKETS_PER_USER: '0' }, /^WS_MAX_SOCKETS_PER_USER must be a whole number from 1 to 10000 \(got "0"\)$/],
    [{ WS_MAX_SOCKETS_PER_USER: 'lots' }, /^WS_MAX_SOCKETS_PER_USER must be a whole number/],
    [{ PRESENCE_HEARTBEAT_MS: '40000' }, /^PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS$/]
  ]
  for (const [env, expected] of cases) {
    const errors = errorsOf(env)
    t.equal(errors.length, 1, `${JSON.stringify(env)} gives exactly one error: ${errors.join(' | ')}`)
    t.match(errors[0], expected)
  }
})

t.test('REDIS_URL turns on Redis fan-out under a prefix several deployments can tell apart', async (t) => {
  const plain = parseConfig({})
  if (!plain.ok) throw new Error(plain.errors.join())
  t.equal(plain.config.redisUrl, null, 'in-process broker by default')
  t.equal(plain.config.redisKeyPrefix, 'chat:v1:')
  const shared = parseConfig({ REDIS_URL: 'redis://cache:6379', REDIS_KEY_PREFIX: 'shop-a:chat:v1:' })
  if (!shared.ok) throw new Error(shared.errors.join())
  t.equal(shared.config.redisUrl, 'redis://cache:6379')
  t.equal(shared.config.redisKeyPrefix, 'shop-a:chat:v1:')
})

t.test('WS_MAX_SOCKETS_PER_USER bounds one person\'s open sockets: 20 unless set', async (t) => {
  const plain = parseConfig({})
  if (!plain.ok) throw new Error(plain.errors.join())
  t.equal(plain.config.ws.maxSocketsPerUser, 20)
  const set = parseConfig({ WS_MAX_SOCKETS_PER_USER: '5' })
  if (!set.ok) throw new Error(set.errors.join())
  t.equal(set.config.ws.maxSocketsPerUser, 5)
})

t.test('several bad values are all reported at once', async (t) => {
  t.equal(errorsOf({ PORT: 'x', LOG_LEVEL: 'y', MIGRATE_ON_START: 'z' }).length, 3)
})

t.test('production with proper secrets is accepted and never in demo mode', async (t) => {
  const result = parseConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET_A, ANON_TOKEN_SECRET: SECRET_B, DATABASE_URL: 'postgres://db/chat' })
  if (!result.ok) throw new Error(result.errors.join())
  t.equal(result.config.demo, false)
  t.equal(result.config.auth.usingDevSecrets, false)
})

t.test('attachments: database storage, 10 MiB, 60 uploads an hour and 1 h URLs unless set; s3 needs a bucket', async (t) => {
  const defaults = parseConfig({})
  if (!defaults.ok) throw new Error(defaults.errors.join())
  t.match(defaults.config.attachments, { storage: 'database', s3: null, maxBytes: 10 * 1024 * 1024, perHour: 60, urlTtlSeconds: 3600 })
  t.match(errorsOf({ ATTACHMENT_STORAGE: 's3' }), [/S3_BUCKET must be set/])
  t.match(errorsOf({ ATTACHMENT_STORAGE: 'disk' }), [/ATTACHMENT_STORAGE must be one of database, s3/])
  t.match(errorsOf({ ATTACHMENT_MAX_BYTES: '12' }), [/ATTACHMENT_MAX_BYTES/])
  const s3 = parseConfig({ ATTACHMENT_STORAGE: 's3', S3_BUCKET: 'photos', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' })
  if (!s3.ok) throw new Error(s3.errors.join())
  t.same(s3.config.attachments.s3, { bucket: 'photos', endpoint: 'http://minio:9000', region: 'us-east-1', accessKeyId: null, secretAccessKey: null, forcePathStyle: true })
})
