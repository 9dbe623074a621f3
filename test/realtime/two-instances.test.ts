// The whole WebSocket protocol again, with the buyer on one instance and the seller on another: one database, one Redis.
import t from 'tap'
import { buildTestApp, listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { mintBuyer, protocolSuite } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl } from '../fixtures/redis.js'
import { registeredUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'

const skip = redisUrl === null
  ? 'REDIS_URL is not set: the two-instance suite needs a Redis'
  : postgresUrl === null
    ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database'
    : false

t.test('two instances behind a load balancer', { skip }, async (t) => {
  protocolSuite(t, async (t, env = {}) => {
    // Both instances in one deployment: same database schema, same Redis prefix.
    const shared = { ...env, ...redisEnv(t) }
    const config = testConfig(t, shared)
    const a = await listenTestApp(t, config)
    const b = await listenTestApp(t, sameDatabase(config, shared))
    return { apps: [a.app, b.app], buyer: { wsUrl: a.wsUrl, app: a.app }, seller: { wsUrl: b.wsUrl, app: b.app } }
  })
})

t.test('an instance shutting down takes its people offline for the others at once, not after the TTL', { skip }, async (t) => {
  // A TTL far beyond the frame wait limit: only the goodbye on shutdown can make this pass.
  const env = redisEnv(t, { ttlMs: 600_000, heartbeatMs: 10_000 })
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const bApp = await buildTestApp(t, sameDatabase(config, env))
  const bUrl = (await bApp.listen({ port: 0, host: '127.0.0.1' })).replace(/^http/, 'ws')
  const buyer = mintBuyer(a.app)
  const seller = registeredUser(`seller-leaving-${process.pid}`)
  const chatId = (await a.app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })).json().id as string

  const buyerTab = await connect(t, `${a.wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`, {}, 'buyer on A')
  await buyerTab.next('history')
  t.same((await buyerTab.next('presence')).online, [buyer.id])
  const sellerTab = await connect(t, `${bUrl}/api/chat/ws/${chatId}?token=${seller.token}`, {}, 'seller on B')
  await sellerTab.next('history')
  t.same((await buyerTab.next('presence')).online, [buyer.id, seller.id], 'the seller on B shows online on A')

  await bApp.close()
  t.equal((await sellerTab.closed).code, 1001, 'B told the seller to reconnect elsewhere')
  t.same((await buyerTab.next('presence')).online, [buyer.id], 'A shows the seller offline straight away')
})
