// PostgreSQL goes away (connections reset, or no answers at all) under an instance with sends in flight: it stays up, answers 503 fast, and recovers by itself.
import { once } from 'node:events'
import t from 'tap'
import { FaultProxy } from '../../bench/lib/fault-proxy.js'
import type { App } from '../../src/app.js'
import { listenTestApp, postgresUrl, testConfig } from '../fixtures/app.js'
import { mintBuyer, type TapTest } from '../fixtures/protocol-suite.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, refusal, type Frame, type WsClient } from '../fixtures/ws-client.js'

const skip = postgresUrl === null ? 'DATABASE_URL is not set: the embedded database cannot go away' : false

// Short bounds, so a hung database shows up within a test's patience; production defaults are 2000 / 5000.
const CONNECT_TIMEOUT_MS = 500
const STATEMENT_TIMEOUT_MS = 1000
/** What the slowest failure may take: a query on a hung connection gives up one second after statement_timeout. */
const FAIL_WITHIN_MS = STATEMENT_TIMEOUT_MS + 1000 + 1500

interface Setup { app: App, proxy: FaultProxy, wsUrl: string, buyer: TestUser, seller: TestUser, chatId: string, buyerTab: WsClient, sellerTab: WsClient }

async function setup (t: TapTest): Promise<Setup> {
  const target = new URL(postgresUrl as string)
  const proxy = await FaultProxy.start({ host: target.hostname, port: Number(target.port || 5432) })
  const config = testConfig(t, { WS_MESSAGE_RATE: '1000', WS_MESSAGE_BURST: '1000', REDIS_URL: '' })
  if (config.database.kind !== 'postgres') throw new Error('needs postgres')
  config.database = { ...config.database, url: proxy.urlFor(postgresUrl as string), connectTimeoutMs: CONNECT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS }
  const { app, wsUrl } = await listenTestApp(t, config)
  // Registered after the app, so it closes after the app has closed its pool.
  t.teardown(async () => { await proxy.close() })
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-pg-outage-${process.pid}`)
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  const chatId = created.json().id as string
  const join = async (user: TestUser, label: string): Promise<WsClient> => {
    const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${user.token}`, {}, label)
    await client.next('history')
    await client.next('presence')
    return client
  }
  return { app, proxy, wsUrl, buyer, seller, chatId, buyerTab: await join(buyer, 'buyer'), sellerTab: await join(seller, 'seller') }
}

/** Sends message frames and collects, per client_message_id, the ack or error frame that answers it. */
async function sendAll (tab: WsClient, ids: string[]): Promise<Map<string, Frame>> {
  for (const id of ids) tab.send({ type: 'message', message_text: `text ${id}`, client_message_id: id })
  const answers = new Map<string, Frame>()
  while (answers.size < ids.length) {
    const frame = await tab.until((f) => (f.type === 'ack' || f.type === 'error') && ids.includes(f.client_message_id as string), 'an ack or error frame')
    answers.set(frame.client_message_id as string, frame)
  }
  return answers
}

/** Polls the readiness probe until it gives the wanted status (the condition this test waits for). */
async function readyBecomes (app: App, status: number): Promise<Frame> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const reply = await app.inject({ url: '/ready' })
    if (reply.statusCode === status) return reply.json()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`/ready never answered ${status}`)
}

async function storedIds (app: App, chatId: string): Promise<Array<{ seq: number, client_message_id: string | null }>> {
  return await app.db.selectFrom('messages').select(['seq', 'client_message_id']).where('chat_id', '=', chatId).orderBy('seq').execute()
}

async function expectUnavailable (t: TapTest, app: App, headers: Record<string, string>, chatId: string): Promise<void> {
  const sent = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers, payload: { message_text: 'over REST', client_message_id: 'rest-1' } })
  t.equal(sent.statusCode, 503, 'a REST send is refused with 503')
  t.equal(sent.json().error.code, 'service_unavailable')
  t.equal(sent.headers['retry-after'], '2', 'and says when to retry')
  const history = await app.inject({ url: `/api/chat/chats/${chatId}/messages`, headers })
  t.same([history.statusCode, history.json().error.code], [503, 'service_unavailable'], 'reading history is 503, not 500')
  const inbox = await app.inject({ url: '/api/chat/chats/my', headers })
  t.same([inbox.statusCode, inbox.json().error.code], [503, 'service_unavailable'], 'the chat list is 503, not 500')
}

t.test('PostgreSQL resets every connection with sends in flight', { skip }, async (t) => {
  const { app, proxy, wsUrl, buyer, chatId, buyerTab, sellerTab } = await setup(t)
  t.equal((await sendAll(buyerTab, ['before'])).get('before')?.type, 'ack')

  // Slow enough that the statements are still on the wire when the connections die.
  proxy.latencyMs = 200
  const ids = Array.from({ length: 40 }, (_, i) => `m${i}`)
  const answered = sendAll(buyerTab, ids)
  await once(proxy, 'upstream')
  proxy.refuse()
  proxy.cut()
  const answers = await answered
  const errors = [...answers.values()].filter((frame) => frame.type === 'error')
  t.ok(errors.length > 0, `sends in flight failed (${errors.length} of ${ids.length}), each answered`)
  t.same(new Set(errors.map((frame) => frame.code)), new Set(['unavailable']), 'with a retryable code, never internal_error')

  t.match(await readyBecomes(app, 503), { status: 'unavailable', database: 'down' }, '/ready says the database is down')
  await expectUnavailable(t, app, buyer.headers, chatId)
  t.equal((await refusal(`${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`)).status, 503, 'a new socket is refused with 503')
  t.equal(buyerTab.ws.readyState, buyerTab.ws.OPEN, 'open sockets stay open')

  proxy.latencyMs = 0
  proxy.heal()
  t.match(await readyBecomes(app, 200), { status: 'ready', database: 'up' }, 'ready again once the database answers, without a restart')
  // The client resends what was not acked, under the same ids.
  const failed = errors.map((frame) => frame.client_message_id as string)
  const retried = await sendAll(buyerTab, failed)
  t.ok([...retried.values()].every((frame) => frame.type === 'ack'), 'every resend is acked')
  const stored = await storedIds(app, chatId)
  t.same(stored.map((row) => row.seq), Array.from({ length: 41 }, (_, i) => i + 1), 'seqs 1..41 without a gap')
  t.same(stored.map((row) => row.client_message_id).sort(), ['before', ...ids].sort(), 'every message stored exactly once')
  const live = new Set<number>()
  while (live.size < 41) live.add((await sellerTab.next('message')).message.seq as number)
  t.equal(live.size, 41, 'the other side got each of them')
})

t.test('PostgreSQL stops answering: sends, reads and /ready fail within their bounds instead of piling up', { skip }, async (t) => {
  const { app, proxy, buyer, chatId, buyerTab } = await setup(t)
  t.equal((await sendAll(buyerTab, ['before'])).get('before')?.type, 'ack')

  proxy.blackhole()
  const started = Date.now()
  const ids = Array.from({ length: 20 }, (_, i) => `h${i}`)
  const answers = await sendAll(buyerTab, ids)
  const elapsed = Date.now() - started
  t.same(new Set([...answers.values()].map((frame) => `${frame.type as string} ${frame.code as string}`)), new Set(['error unavailable']), 'every send is refused as retryable')
  t.ok(elapsed < FAIL_WITHIN_MS, `all ${ids.length} answered in ${elapsed} ms`)

  const readyStarted = Date.now()
  t.match(await readyBecomes(app, 503), { database: 'down' })
  t.ok(Date.now() - readyStarted < FAIL_WITHIN_MS, '/ready answers 503 within its bound')
  const readStarted = Date.now()
  await expectUnavailable(t, app, buyer.headers, chatId)
  t.ok(Date.now() - readStarted < 3 * FAIL_WITHIN_MS, 'reads fail within their bounds too')

  proxy.heal()
  await readyBecomes(app, 200)
  const retried = await sendAll(buyerTab, ids)
  t.ok([...retried.values()].every((frame) => frame.type === 'ack'), 'resends are acked once the database is back')
  t.same((await storedIds(app, chatId)).map((row) => row.seq), Array.from({ length: 21 }, (_, i) => i + 1), 'each stored once, no gap')
})
