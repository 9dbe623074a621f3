// The embedded database opened in the background: the process answers /health at once, and nothing that needs the
// database is served (503 service_unavailable with Retry-After, /ready 503) until it is open and migrated.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { tempDir } from '../fixtures/child-server.js'
import type { Config } from '../../src/config.js'

// PGlite is what opens in the background (PostgreSQL is always awaited), so both runs use it here.
function embedded (t: Parameters<typeof testConfig>[0], dataDir: string | null): Config {
  const config = testConfig(t)
  config.database = { kind: 'pglite', dataDir }
  return config
}

t.test('while the database cannot be opened: /health answers, /ready and the API say 503, and databaseReady rejects', async (t) => {
  // a DATA_DIR under a regular file can never be created, so the database stays "opening" for the whole test
  const dir = await tempDir(t, 'db-background')
  await writeFile(join(dir, 'not-a-directory'), '')
  const app = await buildTestApp(t, embedded(t, join(dir, 'not-a-directory', 'data')), { openDatabaseInBackground: true })

  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200, '/health does not wait for the database')

  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', database: 'down', reason: 'database opening' })

  const anonymous = await app.inject({ method: 'POST', url: '/api/chat/anonymous', payload: {} })
  t.equal(anonymous.statusCode, 503)
  t.equal(anonymous.json().error.code, 'service_unavailable')
  t.ok(Number(anonymous.headers['retry-after']) > 0, 'Retry-After tells the client when to come back')

  await t.rejects(app.databaseReady, 'the failure reaches whoever started the app (src/server.ts exits 1)')
})

t.test('once the database is open and migrated, /ready and the API answer', async (t) => {
  const app = await buildTestApp(t, embedded(t, null), { openDatabaseInBackground: true })
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  await app.databaseReady
  t.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
  const anonymous = await app.inject({ method: 'POST', url: '/api/chat/anonymous', payload: {} })
  t.equal(anonymous.statusCode, 201, anonymous.body)
})

t.test('without the option the database is open when buildApp returns', async (t) => {
  const app = await buildTestApp(t, embedded(t, null))
  t.ok(app.databaseIsReady())
  t.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
})
