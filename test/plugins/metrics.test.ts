// Metrics move when things happen: stored messages, HTTP timings by route pattern, the pool, and the process.
import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, listenTestApp, testConfig } from '../fixtures/app.js'
import { closedOnServer } from '../fixtures/protocol-suite.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { connect, type WsClient } from '../fixtures/ws-client.js'

/** The value of one sample in the exposition text, or undefined when the series is absent. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function scrape (app: App): Promise<string> {
  const response = await app.inject('/metrics')
  if (response.statusCode !== 200) throw new Error(`metrics answered ${response.statusCode}: ${response.body}`)
  return response.body
}

async function openChat (app: App): Promise<{ chatId: string, headers: { authorization: string } }> {
  const buyer = await anonymousBuyer(app)
  const chat = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 7, seller_id: 'seller-1' } })
  return { chatId: chat.json().id, headers: buyer.headers }
}

// One app for the tests that only read their own series: starting apps is the slow part on a busy machine.
const { app: shared, wsUrl } = await listenTestApp(t)
const stored = async (app: App): Promise<number> => sample(await scrape(app), 'chat_messages_stored_total') ?? NaN

t.test('the pool, the WebSocket gauges and the Node process are exposed', async (t) => {
  const text = await scrape(shared)
  t.ok((sample(text, 'chat_db_pool_connections') ?? 0) >= 1, 'open pool connections')
  t.equal(sample(text, 'chat_db_pool_waiting_requests'), 0)
  t.ok(sample(text, 'chat_db_pool_idle_connections') !== undefined)
  t.equal(sample(text, 'chat_online_users'), 0)
  t.equal(sample(text, 'chat_ws_connections_open{kind="chat"}'), 0)
  t.match(text, /# TYPE chat_ws_frames_rejected_total counter/)
  t.match(text, /# TYPE chat_message_delivery_seconds histogram/)
  t.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0)
  t.match(text, /nodejs_eventloop_lag_seconds/)
})

t.test('a stored message moves the counter once; a retried client_message_id does not', async (t) => {
  const app = shared
  const { chatId, headers } = await openChat(app)
  const before = await stored(app)

  const send = async (): Promise<number> => (await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers, payload: { message_text: 'hi', client_message_id: 'c-1' } })).statusCode
  t.equal(await send(), 201)
  t.equal(await stored(app), before + 1)
  t.equal(await send(), 200, 'the retry returns the original')
  t.equal(await stored(app), before + 1)
})

t.test('HTTP durations are labelled by route pattern, never by the raw URL', async (t) => {
  const app = shared
  const { chatId, headers } = await openChat(app)
  const history = 'http_request_duration_seconds_count{method="GET",route="/api/chat/chats/:id/messages",status_code="200"}'
  const unmatched = 'http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}'
  const before = await scrape(app)
  await app.inject({ url: `/api/chat/chats/${chatId}/messages?limit=5`, headers })
  await app.inject({ url: '/no/such/page/12345' })
  const text = await scrape(app)
  t.equal(sample(text, history), (sample(before, history) ?? 0) + 1)
  t.equal(sample(text, unmatched), (sample(before, unmatched) ?? 0) + 1)
  t.notOk(text.includes(chatId), 'no chat id leaks into a label')
  t.notOk(text.includes('12345'))
})

t.test('each app has its own registry', async (t) => {
  const other = await buildTestApp(t)
  const { chatId, headers } = await openChat(shared)
  const before = await stored(shared)
  await shared.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers, payload: { message_text: 'hi' } })
  t.equal(await stored(shared), before + 1)
  t.equal(await stored(other), 0)
})

t.test('with METRICS_TOKEN set, only that bearer token can scrape', async (t) => {
  const token = 'metrics-scraper-token-0123456789'
  const app = await buildTestApp(t, testConfig(t, { METRICS_TOKEN: token }))
  const anonymous = await app.inject('/metrics')
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().error.code, 'unauthorized')
  const wrong = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}x` } })
  t.equal(wrong.statusCode, 401)
  const right = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })
  t.equal(right.statusCode, 200)
  t.match(right.headers['content-type'], /^text\/plain/)
  t.match(right.body, /chat_messages_stored_total 0/)
})

t.test('WebSocket metrics follow connections, rejected frames and deliveries', async (t) => {
  const app = shared
  const start = await scrape(app)
  const moved = (text: string, series: string): number => (sample(text, series) ?? 0) - (sample(start, series) ?? 0)
  const buyer = await anonymousBuyer(app)
  const seller = registeredUser('seller-ws-metrics')
  const chatId = (await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 7, seller_id: seller.id } })).json().id as string
  const join = async (token: string): Promise<WsClient> => {
    const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${token}`)
    await client.next('history')
    await client.next('presence')
    return client
  }

  const buyerSocket = await join(buyer.token)
  let text = await scrape(app)
  t.equal(sample(text, 'chat_ws_connections_open{kind="chat"}'), 1)
  t.equal(sample(text, 'chat_ws_connections_open{kind="inbox"}'), 0)
  t.equal(sample(text, 'chat_online_users'), 1)

  const inbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`)
  await inbox.barrier()
  const sellerSocket = await join(seller.token)
  text = await scrape(app)
  t.equal(sample(text, 'chat_ws_connections_open{kind="chat"}'), 2)
  t.equal(sample(text, 'chat_ws_connections_open{kind="inbox"}'), 1)
  t.equal(sample(text, 'chat_online_users'), 2, 'the seller counts once with two sockets')

  buyerSocket.send('not json')
  await buyerSocket.next('error')
  buyerSocket.send({ type: 'message', message_text: '   ', client_message_id: 'blank' })
  await buyerSocket.next('error')
  text = await scrape(app)
  t.equal(moved(text, 'chat_ws_frames_rejected_total{reason="invalid_json"}'), 1)
  t.equal(moved(text, 'chat_ws_frames_rejected_total{reason="empty_message"}'), 1)

  buyerSocket.send({ type: 'message', message_text: 'is it available?', client_message_id: 'c-1' })
  await buyerSocket.next('ack')
  await sellerSocket.next('message')
  text = await scrape(app)
  t.equal(moved(text, 'chat_messages_stored_total'), 1)
  t.equal(moved(text, 'chat_send_batch_messages_count'), 1, 'one statement stored it')
  t.equal(moved(text, 'chat_send_batch_messages_sum'), 1)
  t.equal(moved(text, 'chat_ws_messages_received_total'), 2, 'the blank one was received too')
  t.equal(moved(text, 'chat_message_delivery_seconds_count'), 1, 'one live delivery: the sender gets an ack, not a copy')

  const sellerGone = closedOnServer(app, seller, 'chat')
  sellerSocket.send('x'.repeat(17 * 1024))
  t.equal((await sellerSocket.closed).code, 1009)
  await sellerGone
  t.equal(moved(await scrape(app), 'chat_ws_frames_rejected_total{reason="too_large"}'), 1)

  const gone = Promise.all([closedOnServer(app, buyer, 'chat'), closedOnServer(app, seller, 'inbox')])
  await Promise.all([buyerSocket.close(), inbox.close()])
  await gone
  text = await scrape(app)
  t.equal(sample(text, 'chat_ws_connections_open{kind="chat"}'), 0)
  t.equal(sample(text, 'chat_ws_connections_open{kind="inbox"}'), 0)
  t.equal(sample(text, 'chat_online_users'), 0)
})
