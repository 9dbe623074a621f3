// Redis stops under two instances mid-conversation: every send is still acked and kept; when it returns, open sockets get what they missed and live delivery resumes by itself.
import t from 'tap'
import type { App } from '../../src/app.js'
import type { RedisBroker, RedisStatus } from '../../src/realtime/redis-broker.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl, startRedisServer } from '../fixtures/redis.js'
import { registeredUser } from '../fixtures/users.js'
import { connect, type Frame, type WsClient } from '../fixtures/ws-client.js'

const skip = redisUrl === null
  ? 'REDIS_URL is not set: Redis outages are not tested in this run'
  : postgresUrl === null
    ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database'
    : false

function becomes (app: App, wanted: RedisStatus): Promise<void> {
  const broker = app.broker as RedisBroker
  return new Promise((resolve) => {
    if (broker.status() === wanted) return resolve()
    const off = broker.onStatusChange((status) => { if (status === wanted) { off(); resolve() } })
  })
}

t.test('Redis stops and comes back under two instances', { skip }, async (t) => {
  // A private server: this test stops it, and the shared one must stay up for everyone else.
  const server = await startRedisServer(t)
  const env = redisEnv(t, { url: server.url })
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  const buyer = mintBuyer(a.app)
  const seller = registeredUser(`seller-outage-${process.pid}`)
  const created = await a.app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  const chatId = created.json().id as string

  const join = async (wsUrl: string, token: string, label: string, afterSeq?: number): Promise<WsClient> => {
    const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${token}${afterSeq === undefined ? '' : `&after_seq=${afterSeq}`}`, {}, label)
    for (;;) if ((await client.next('history')).complete === true) break
    await client.next('presence')
    return client
  }
  const buyerTab = await join(a.wsUrl, buyer.token, 'buyer on A')
  const buyerOtherTab = await join(a.wsUrl, buyer.token, 'buyer, second tab on A')
  const sellerTab = await join(b.wsUrl, seller.token, 'seller on B')
  const sellerInbox = await connect(t, `${b.wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, 'seller inbox on B')
  sellerInbox.send({ type: 'ping' })
  await sellerInbox.next('pong')
  const send = async (client: WsClient, text: string): Promise<Frame> => {
    client.send({ type: 'message', message_text: text, client_message_id: text })
    return (await client.next('ack', (frame) => frame.client_message_id === text)).message
  }
  const textIs = (text: string) => (frame: Frame): boolean => frame.message.message_text === text

  t.equal((await send(buyerTab, 'before')).seq, 1)
  await sellerTab.next('message', textIs('before'))

  const down = [becomes(a.app, 'down'), becomes(b.app, 'down')]
  await server.stop()
  t.equal((await send(buyerTab, 'during, from A')).seq, 2, 'acked on A although Redis just went away')
  await Promise.all(down)
  t.equal((await send(sellerTab, 'during, from B')).seq, 3, 'acked on B with Redis down')
  t.match((await buyerOtherTab.next('message', textIs('during, from A'))).message, { seq: 2 }, 'sockets on the same instance still get messages live')
  for (const app of [a.app, b.app]) {
    const ready = await app.inject({ url: '/ready' })
    t.equal(ready.statusCode, 200, 'still ready: the instance serves without Redis')
    t.same(ready.json(), { status: 'ready', database: 'up', redis: 'down' })
    t.match((await app.inject({ url: '/metrics' })).body, /^chat_redis_up 0$/m, 'the metric says so too')
  }

  const up = [becomes(a.app, 'up'), becomes(b.app, 'up')]
  await server.start()
  await Promise.all(up)
  // Neither socket heard the other instance's message while Redis was away; nobody reconnects, yet both get it now,
  // in seq order, before anything newer.
  t.match((await sellerTab.next('message', textIs('during, from A'))).message, { seq: 2 }, 'the seller on B is caught up from the database')
  t.match((await buyerTab.next('message', textIs('during, from B'))).message, { seq: 3 }, 'the buyer on A is caught up from the database')
  t.same(await sellerInbox.closed, { code: 1012, reason: 'Missed live updates; reconnect and reload' }, 'the inbox, which cannot tell what it missed, is told to reconnect')
  t.same((await a.app.inject({ url: '/ready' })).json(), { status: 'ready', database: 'up', redis: 'up' })
  t.match((await a.app.inject({ url: '/metrics' })).body, /^chat_redis_up 1$/m)
  // Nobody restarted anything: delivery across instances works again, both ways.
  t.equal((await send(buyerTab, 'after, from A')).seq, 4)
  t.match((await sellerTab.next('message', textIs('after, from A'))).message, { seq: 4 }, 'B hears A again')
  t.equal((await send(sellerTab, 'after, from B')).seq, 5)
  t.match((await buyerTab.next('message', textIs('after, from B'))).message, { seq: 5 }, 'A hears B again')
  sellerTab.send({ type: 'typing', is_typing: true })
  t.same(await buyerTab.next('typing'), { type: 'typing', user_id: seller.id, is_typing: true }, 'typing crosses instances again')

  for (const [label, tab] of [['buyer', buyerTab], ['seller', sellerTab]] as const) {
    const live = tab.frames.filter((entry) => entry.frame.type === 'message').map((entry) => entry.frame.message.seq as number)
    const own = tab === buyerTab ? [1, 2, 4] : [3, 5]
    t.same([...live, ...own].sort((x, y) => x - y), [1, 2, 3, 4, 5], `${label}: every message exactly once, live or as an ack (live: ${live.join(', ')})`)
    t.same(live, [...live].sort((x, y) => x - y), `${label}: live messages arrive in seq order`)
  }
  const caughtUp = await connect(t, `${a.wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}&after_seq=1`, {}, 'buyer reconnecting')
  const history = await caughtUp.next('history')
  t.same(history.messages.map((message: Frame) => [message.seq, message.message_text]),
    [[2, 'during, from A'], [3, 'during, from B'], [4, 'after, from A'], [5, 'after, from B']], 'nothing acked was lost')
})
