// What keeps one instance healthy under bad peers: oversized frames, dead and slow clients, and a shutdown that loses nothing.
import t from 'tap'
import type { WebSocket } from 'ws'
import type { App } from '../../src/app.js'
import type { Env } from '../../src/config.js'
import { listenTestApp, testConfig } from '../fixtures/app.js'
import { closedOnServer, mintBuyer } from '../fixtures/protocol-suite.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, type WsClient } from '../fixtures/ws-client.js'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

interface Setup {
  app: App
  wsUrl: string
  buyer: TestUser
  seller: TestUser
  chatId: string
  join: (user: TestUser, options?: { autoPong?: boolean, afterSeq?: number }) => Promise<WsClient>
}

let sellers = 0
// Tests on default settings share one app (each with its own people and chat); the shutdown test, which closes it, runs last.
let shared: Promise<{ app: App, wsUrl: string }> | null = null
const root = t

async function setup (t: TapTest, env?: Env): Promise<Setup> {
  shared ??= listenTestApp(root, testConfig(root))
  const { app, wsUrl } = env === undefined ? await shared : await listenTestApp(t, testConfig(t, env))
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-r${++sellers}`)
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  const chatId = (created.json() as { id: string }).id
  return {
    app,
    wsUrl,
    buyer,
    seller,
    chatId,
    async join (user, options = {}) {
      const after = options.afterSeq === undefined ? '' : `&after_seq=${options.afterSeq}`
      const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${user.token}${after}`, { autoPong: options.autoPong ?? true }, user.id)
      for (;;) if ((await client.next('history')).complete === true) break
      await client.next('presence')
      return client
    }
  }
}

/** Resolves once the server has finished closing every socket (earlier tests' sockets close as they tear down). */
async function allClosed (app: App): Promise<void> {
  if (app.connections.stats().openConnections === 0) return
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (app.connections.stats().openConnections > 0) return
      app.connections.off('close', check)
      resolve()
    }
    app.connections.on('close', check)
  })
}

const rawSocket = (ws: WebSocket): { pause: () => void, resume: () => void } =>
  (ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket

t.test('a frame over 16 KiB closes the socket with 1009 and stores nothing', async (t) => {
  const s = await setup(t)
  const b1 = await s.join(s.buyer)
  const s1 = await s.join(s.seller)
  b1.send({ type: 'message', message_text: 'x'.repeat(16 * 1024), client_message_id: 'big' })
  t.equal((await b1.closed).code, 1009)
  t.same((await s1.next('presence')).online, [s.seller.id], 'the buyer is gone')
  t.same(s1.pending('message'), [])
  const history = await s.app.inject({ url: `/api/chat/chats/${s.chatId}/messages`, headers: s.seller.headers })
  t.same(history.json().messages, [])
})

t.test('a peer that stops answering pings is cut; one that answers stays', async (t) => {
  const s = await setup(t, { WS_HEARTBEAT_MS: '100' })
  const live = await s.join(s.seller)
  let pings = 0
  live.ws.on('ping', () => { pings++ })
  const dead = await s.join(s.buyer, { autoPong: false })
  t.equal((await dead.closed).code, 1006, 'terminated without a closing handshake')
  const pingsAtCut = pings
  t.same((await live.next('presence', (f) => f.online.length === 1)).online, [s.seller.id], 'the other side sees the dead peer leave')
  // Three more heartbeats answered: still connected.
  await new Promise<void>((resolve) => { live.ws.on('ping', () => { if (pings >= pingsAtCut + 3) resolve() }) })
  t.equal(live.ws.readyState, live.ws.OPEN)
  await live.barrier()
  t.equal(s.app.connections.stats().heartbeatTimeouts, 1)
})

t.test('a client that stops reading is closed with 1013 instead of buffering without limit', async (t) => {
  // No heartbeat during the test: the paused reader must be cut for being slow, not for missing pongs.
  const s = await setup(t, { WS_MAX_BUFFERED_BYTES: '1024', WS_HEARTBEAT_MS: '600000' })
  const slow = await s.join(s.buyer)
  const s1 = await s.join(s.seller)
  rawSocket(slow.ws).pause()
  const seller = { userId: s.seller.id, registered: true }
  // 2000 characters of 4 bytes each: the largest message there is, so the buffers fill in fewer sends.
  const text = '😀'.repeat(2000)
  let sent = 0
  // Keep sending until the server gives up on the reader (kernel buffers absorb the first few hundred KB).
  while (s.app.connections.stats().slowConsumerCloses === 0 && sent < 20_000) {
    await s.app.chat.sendMessage(seller, s.chatId, text, null)
    sent++
    // Embedded PGlite answers without touching the event loop's I/O phase; this lets the healthy reader read.
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(s.app.connections.stats().slowConsumerCloses, 1, `closed after ${sent} messages`)
  rawSocket(slow.ws).resume()
  t.equal((await slow.closed).code, 1013)
  const received = slow.frames.filter((entry) => entry.frame.type === 'message').length
  t.ok(received <= sent, `it got ${received} of ${sent} messages before the close; nothing more was queued for it`)
  t.equal(s1.ws.readyState, s1.ws.OPEN, 'a reader that keeps up is not affected')

  const back = await connect(t, `${s.wsUrl}/api/chat/ws/${s.chatId}?token=${s.buyer.token}&after_seq=${received}`)
  let caughtUp = received
  while (caughtUp < sent) {
    const page = await back.next('history')
    caughtUp += page.messages.length
    if (page.complete === true) break
  }
  t.equal(caughtUp, sent, 'a reconnect with after_seq gets the rest')
})

t.test('app.connections counts connections, people and messages', async (t) => {
  const s = await setup(t)
  await allClosed(s.app)
  const b1 = await s.join(s.buyer)
  const b2 = await s.join(s.buyer)
  const s1 = await s.join(s.seller)
  const inbox = await connect(t, `${s.wsUrl}/api/chat/ws/inbox?token=${s.seller.token}`)
  await inbox.barrier()
  t.match(s.app.connections.stats(), { openConnections: 4, chatConnections: 3, inboxConnections: 1, onlineUsers: 2, messagesReceived: 0 })
  b1.send({ type: 'message', message_text: 'one', client_message_id: 'c-1' })
  b2.send({ type: 'message', message_text: 'two', client_message_id: 'c-2' })
  await b1.next('ack')
  await b2.next('ack')
  const stats = s.app.connections.stats()
  t.equal(stats.messagesReceived, 2)

  const gone = closedOnServer(s.app, s.seller, 'chat')
  await s1.close()
  await gone
  t.match(s.app.connections.stats(), { openConnections: 3, chatConnections: 2, onlineUsers: 2 })
  const inboxGone = closedOnServer(s.app, s.seller, 'inbox')
  await inbox.close()
  await inboxGone
  t.match(s.app.connections.stats(), { openConnections: 2, onlineUsers: 1 })
})

t.test('shutdown lets a message being stored finish, acks it, then closes every socket with 1001', async (t) => {
  const s = await setup(t)
  const b1 = await s.join(s.buyer)
  const s1 = await s.join(s.seller)
  const inbox = await connect(t, `${s.wsUrl}/api/chat/ws/inbox?token=${s.seller.token}`)
  await inbox.barrier()

  // Hold the send inside ChatService so it is provably in flight when the shutdown begins.
  let entered!: () => void
  const inFlight = new Promise<void>((resolve) => { entered = resolve })
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const send = s.app.chat.sendMessage.bind(s.app.chat)
  s.app.chat.sendMessage = async (...args) => {
    entered()
    await gate
    return await send(...args)
  }
  b1.send({ type: 'message', message_text: 'sent as the server stops', client_message_id: 'last-words' })
  await inFlight
  const shutdownBegan = new Promise<void>((resolve) => { s.app.connections.once('shutdown', resolve) })
  const closing = s.app.close()
  await shutdownBegan
  release()

  const ack = await b1.next('ack')
  t.match(ack, { client_message_id: 'last-words', message: { seq: 1, message_text: 'sent as the server stops' } })
  t.equal((await s1.next('message')).message.id, ack.message.id, 'the other side got it too')
  for (const client of [b1, s1, inbox]) t.equal((await client.closed).code, 1001, `${client.label} told to reconnect`)
  await closing
})
