// Limits per person, not per socket: more sockets buy no more messages or reads, and one person holds a bounded number of sockets.
import t from 'tap'
import type { App } from '../../src/app.js'
import type { Env } from '../../src/config.js'
import type { RedisBroker } from '../../src/realtime/redis-broker.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { closedOnServer, mintBuyer } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl, startRedisServer } from '../fixtures/redis.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, refusal, type WsClient } from '../fixtures/ws-client.js'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

const RATE = 1
const BURST = 3
const LIMITS: Env = { WS_MESSAGE_RATE: String(RATE), WS_MESSAGE_BURST: String(BURST) }
let sellers = 0

async function chatOf (app: App, buyer: TestUser, seller: TestUser): Promise<string> {
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  return (created.json() as { id: string }).id
}

async function openChat (t: TapTest, wsUrl: string, user: TestUser, chatId: string, label: string): Promise<WsClient> {
  const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${user.token}`, {}, label)
  await client.next('history')
  return client
}

/** Sends `count` messages on every socket at once; resolves with how many were acked and how many refused as rate_limited. */
async function flood (clients: WsClient[], count: number): Promise<{ acked: number, limited: number, seconds: number }> {
  const started = performance.now()
  let acked = 0
  let limited = 0
  await Promise.all(clients.map(async (client, c) => {
    const ids = Array.from({ length: count }, (_, i) => `flood-${c}-${i}`)
    for (const id of ids) client.send({ type: 'message', message_text: `hi ${id}`, client_message_id: id })
    for (const id of ids) {
      const outcome = await client.until((frame) => frame.client_message_id === id && (frame.type === 'ack' || frame.type === 'error'), `outcome of ${id}`)
      if (outcome.type === 'ack') acked++
      else if (outcome.code === 'rate_limited') limited++
    }
  }))
  return { acked, limited, seconds: (performance.now() - started) / 1000 }
}

/** What a token bucket lets through in `seconds`: the burst, the refill, and one for rounding. */
const allowance = (seconds: number): number => BURST + Math.ceil(seconds * RATE) + 1

async function storedCount (app: App, user: TestUser, chatId: string): Promise<number> {
  const history = await app.inject({ url: `/api/chat/chats/${chatId}/messages?limit=100`, headers: user.headers })
  return (history.json() as { messages: unknown[] }).messages.length
}

t.test('one person\'s messages share one rate across all their sockets', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, LIMITS))
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-lim-${++sellers}`)
  const chatId = await chatOf(app, buyer, seller)
  const tabs = await Promise.all(Array.from({ length: 6 }, async (_, i) => await openChat(t, wsUrl, buyer, chatId, `buyer tab ${i}`)))

  const { acked, limited, seconds } = await flood(tabs, BURST)
  t.ok(acked <= allowance(seconds), `${acked} of ${6 * BURST} acked in ${seconds.toFixed(1)} s: no more than one person's allowance`)
  t.ok(acked >= BURST, 'the burst itself goes through')
  t.equal(acked + limited, 6 * BURST, 'every other message was refused as rate_limited')
  t.equal(await storedCount(app, buyer, chatId), acked, 'only acknowledged messages were stored')

  const sellerTab = await openChat(t, wsUrl, seller, chatId, 'seller')
  const theirs = await flood([sellerTab], BURST)
  t.equal(theirs.acked, BURST, 'the other participant has an allowance of their own')
})

t.test('read frames share one rate across a person\'s sockets too', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, LIMITS))
  const buyer = mintBuyer(app)
  const chatId = await chatOf(app, buyer, registeredUser(`seller-lim-${++sellers}`))
  const tabs = await Promise.all(Array.from({ length: 6 }, async (_, i) => await openChat(t, wsUrl, buyer, chatId, `buyer tab ${i}`)))
  const started = performance.now()
  for (const tab of tabs) for (let i = 0; i < BURST; i++) tab.send({ type: 'read' })
  await Promise.all(tabs.map(async (tab) => { await tab.barrier() }))
  const seconds = (performance.now() - started) / 1000
  const limited = tabs.reduce((sum, tab) => sum + tab.take('error').filter((frame) => frame.code === 'rate_limited').length, 0)
  t.ok(6 * BURST - limited <= allowance(seconds), `${6 * BURST - limited} reads handled in ${seconds.toFixed(1)} s`)
})

t.test('one person holds at most WS_MAX_SOCKETS_PER_USER sockets; the next upgrade gets 429 too_many_connections', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { WS_MAX_SOCKETS_PER_USER: '2' }))
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-lim-${++sellers}`)
  const chatId = await chatOf(app, buyer, seller)
  const first = await openChat(t, wsUrl, buyer, chatId, 'buyer chat')
  await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${buyer.token}`, {}, 'buyer inbox')

  for (const url of [`${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`, `${wsUrl}/api/chat/ws/inbox?token=${buyer.token}`]) {
    const refused = await refusal(url)
    t.equal(refused.status, 429)
    t.equal(refused.body?.error?.code, 'too_many_connections')
  }
  await openChat(t, wsUrl, seller, chatId, 'seller')
  t.pass('someone else is not affected')
  t.equal((await app.inject({ url: `/api/chat/ws/inbox?token=${buyer.token}` })).statusCode, 426, 'a plain GET is not counted against it')

  const gone = closedOnServer(app, buyer, 'chat')
  await first.close()
  await gone
  await openChat(t, wsUrl, buyer, chatId, 'buyer chat again')
  t.pass('a closed socket gives its slot back')
})

const skipTwo = redisUrl === null
  ? 'REDIS_URL is not set: the cross-instance limits need a Redis'
  : postgresUrl === null ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database' : false

t.test('across instances: one person\'s rate and socket bound hold over both', { skip: skipTwo }, async (t) => {
  const env = { ...LIMITS, WS_MAX_SOCKETS_PER_USER: '4', ...redisEnv(t) }
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  const buyer = mintBuyer(a.app)
  const chatId = await chatOf(a.app, buyer, registeredUser(`seller-lim-${++sellers}`))
  const tabs = [
    await openChat(t, a.wsUrl, buyer, chatId, 'A1'), await openChat(t, a.wsUrl, buyer, chatId, 'A2'),
    await openChat(t, b.wsUrl, buyer, chatId, 'B1'), await openChat(t, b.wsUrl, buyer, chatId, 'B2')
  ]
  for (const wsUrl of [a.wsUrl, b.wsUrl]) {
    const refused = await refusal(`${wsUrl}/api/chat/ws/inbox?token=${buyer.token}`)
    t.equal(refused.status, 429, 'the fifth socket is refused on either instance')
    t.equal(refused.body?.error?.code, 'too_many_connections')
  }

  const { acked, limited, seconds } = await flood(tabs, BURST)
  t.ok(acked <= allowance(seconds), `${acked} of ${4 * BURST} acked in ${seconds.toFixed(1)} s over two instances`)
  t.equal(acked + limited, 4 * BURST)

  const gone = closedOnServer(b.app, buyer, 'chat')
  await tabs[2]?.close()
  await gone
  await connect(t, `${a.wsUrl}/api/chat/ws/inbox?token=${buyer.token}`, {}, 'A inbox')
  t.pass('a socket closed on B frees a slot on A')
})

t.test('with Redis unreachable, the limits fall back to this instance\'s own instead of failing sends', { skip: redisUrl === null ? 'REDIS_URL is not set: Redis outages are not tested in this run' : false }, async (t) => {
  // A private server: this test stops it, and the shared one must stay up for everyone else.
  const server = await startRedisServer(t)
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { ...LIMITS, WS_MAX_SOCKETS_PER_USER: '2', ...redisEnv(t, { url: server.url }) }))
  const broker = app.broker as RedisBroker
  const buyer = mintBuyer(app)
  const chatId = await chatOf(app, buyer, registeredUser(`seller-lim-${++sellers}`))
  const first = await openChat(t, wsUrl, buyer, chatId, 'before the outage')

  const down = new Promise<void>((resolve) => { const off = broker.onStatusChange((status) => { if (status === 'down') { off(); resolve() } }) })
  await server.stop()
  await down

  const second = await openChat(t, wsUrl, buyer, chatId, 'during the outage')
  const refused = await refusal(`${wsUrl}/api/chat/ws/inbox?token=${buyer.token}`)
  t.equal(refused.status, 429, 'the socket bound still holds on this instance')
  const { acked, limited, seconds } = await flood([first, second], BURST)
  t.ok(acked >= BURST, 'sends go through')
  t.ok(acked <= allowance(seconds), `${acked} acked in ${seconds.toFixed(1)} s: still limited per person`)
  t.equal(acked + limited, 2 * BURST, 'nothing failed for want of Redis')
})
