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
  t.same(result.config.database, { kind: 'pglite', dataDir: './data' })
  t.equal(result.config.demo, true)
  t.equal(result.config.migrateOnStart, true)
  t.equal(result.config.auth.usingDevSecrets, true)
  t.same(result.config.corsOrigins, [])
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
    [{ WS_MESSAGE_RATE: '0' }, /^WS_MESSAGE_RATE must be a whole number from 1/],
    [{ PRESENCE_HEARTBEAT_MS: '40000' }, /^PRESENCE_HEARTBEAT_MS must be shorter than PRESENCE_TTL_MS$/]
  ]
  for (const [env, expected] of cases) {
    const errors = errorsOf(env)
    t.equal(errors.length, 1, `${JSON.stringify(env)} gives exactly one error: ${errors.join(' | ')}`)
    t.match(errors[0], expected)
  }
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
