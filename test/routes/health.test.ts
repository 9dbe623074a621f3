// Probes: /health never needs the database; /ready reports a lost database as 503 with a reason.
import t from 'tap'
import { buildTestApp } from '../fixtures/app.js'

t.test('/health answers without the database and /ready with it', async (t) => {
  const app = await buildTestApp(t)
  const health = await app.inject({ url: '/health' })
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'healthy', service: 'chat' })
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', database: 'up' })

  await app.database.close()
  const lost = await app.inject({ url: '/ready' })
  t.equal(lost.statusCode, 503)
  t.match(lost.json(), { status: 'unavailable', database: 'down', reason: 'database unreachable' })
  const stillAlive = await app.inject({ url: '/health' })
  t.equal(stillAlive.statusCode, 200, 'liveness does not depend on the database')
})
