// Sockets live no longer than their token: closed with 4001 at its exp unless an auth frame brought a fresh one for the same person.
import t from 'tap'
import { listenTestApp, TEST_ANON_SECRET, testConfig } from '../fixtures/app.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { forgedAnonymous, registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, type WsClient } from '../fixtures/ws-client.js'
import { addBan } from '../../src/safety/safety-repository.js'

const { app, wsUrl } = await listenTestApp(t, testConfig(t))
let sellers = 0

// Long enough to open the socket on a busy machine, short enough to wait for.
const LIFETIME_S = 3

function expOf (user: TestUser): number {
  return (JSON.parse(Buffer.from(user.token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp
}

/** The close, or a failure once it is clearly overdue (a socket that never closes must not hang the suite). */
async function closeOf (client: WsClient, dueAtMs: number): Promise<{ code: number, reason: string, at: number }> {
  let timer: NodeJS.Timeout | undefined
  const overdue = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${client.label}: still open ${dueAtMs + 10_000 - Date.now()} ms after its token expired`)) }, Math.max(0, dueAtMs - Date.now()) + 10_000)
  })
  try {
    const closed = await Promise.race([client.closed, overdue])
    return { ...closed, at: Date.now() }
  } finally {
    clearTimeout(timer)
  }
}

async function chatOf (buyer: TestUser, seller: TestUser): Promise<string> {
  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'l-1', seller_id: seller.id } })
  return (created.json() as { id: string }).id
}

async function openChat (user: TestUser, chatId: string): Promise<WsClient> {
  const client = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${user.token}`, {}, user.id)
  await client.next('history')
  return client
}

t.test('a chat socket is closed with 4001 token_expired when its token expires', async (t) => {
  const seller = registeredUser(`seller-exp-${++sellers}`, { expiresInSeconds: LIFETIME_S })
  const client = await openChat(seller, await chatOf(mintBuyer(app), seller))
  const closed = await closeOf(client, expOf(seller) * 1000)
  t.equal(closed.code, 4001)
  t.equal(closed.reason, 'token_expired')
  t.ok(closed.at >= expOf(seller) * 1000, 'not before the token expired')
})

t.test('an inbox socket too', async (t) => {
  const seller = registeredUser(`seller-exp-${++sellers}`, { expiresInSeconds: LIFETIME_S })
  const client = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, 'inbox')
  const closed = await closeOf(client, expOf(seller) * 1000)
  t.equal(closed.code, 4001)
  t.ok(closed.at >= expOf(seller) * 1000)
})

t.test('a fresh token in an auth frame moves the close to its own exp', async (t) => {
  const id = `seller-exp-${++sellers}`
  const seller = registeredUser(id, { expiresInSeconds: LIFETIME_S })
  const client = await openChat(seller, await chatOf(mintBuyer(app), seller))
  const fresh = registeredUser(id, { expiresInSeconds: LIFETIME_S + 2 })
  client.send({ type: 'auth', token: fresh.token })
  t.same(await client.next('auth_ok'), { type: 'auth_ok', exp: expOf(fresh) })
  const closed = await closeOf(client, expOf(fresh) * 1000)
  t.equal(closed.code, 4001)
  t.ok(closed.at >= expOf(fresh) * 1000, 'open past the first token\'s exp, closed at the fresh one\'s')
})

t.test('the inbox accepts a fresh token too', async (t) => {
  const id = `seller-exp-${++sellers}`
  const seller = registeredUser(id, { expiresInSeconds: LIFETIME_S })
  const client = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, 'inbox')
  const fresh = registeredUser(id, { expiresInSeconds: 3600 })
  client.send({ type: 'auth', token: fresh.token })
  t.same(await client.next('auth_ok'), { type: 'auth_ok', exp: expOf(fresh) })
  await client.close()
})

t.test('a token for someone else, or one that does not verify, is refused and the old expiry stands', async (t) => {
  const id = `seller-exp-${++sellers}`
  const seller = registeredUser(id, { expiresInSeconds: LIFETIME_S })
  const client = await openChat(seller, await chatOf(mintBuyer(app), seller))
  client.send({ type: 'auth', token: registeredUser('someone-else', { expiresInSeconds: 3600 }).token })
  t.match(await client.next('error'), { code: 'forbidden', message: /different user/ })
  // Same id, other kind of identity: an anonymous buyer is someone else.
  client.send({ type: 'auth', token: forgedAnonymous(id, TEST_ANON_SECRET).token })
  t.match(await client.next('error'), { code: 'forbidden' })
  client.send({ type: 'auth', token: registeredUser(id, { secret: 'x'.repeat(40), expiresInSeconds: 3600 }).token })
  t.match(await client.next('error'), { code: 'unauthorized' })
  client.send({ type: 'auth', token: registeredUser(id, { expiresInSeconds: -10 }).token })
  t.match(await client.next('error'), { code: 'unauthorized', message: /expired/ })
  client.send({ type: 'auth' })
  t.match(await client.next('error'), { code: 'validation_failed' })
  t.same(client.pending('auth_ok'), [])
  const closed = await closeOf(client, expOf(seller) * 1000)
  t.equal(closed.code, 4001)
})

t.test('an anonymous token a year long keeps its socket open (no timer overflow)', async (t) => {
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-exp-${++sellers}`)
  const client = await openChat(buyer, await chatOf(buyer, seller))
  await client.barrier()
  await client.barrier()
  t.equal(client.ws.readyState, client.ws.OPEN)
  await client.close()
})

t.test('a fresh token does not keep a banned person\'s socket open: a ban that missed this socket closes it with 4004', async (t) => {
  const id = `seller-exp-${++sellers}`
  const seller = registeredUser(id, { expiresInSeconds: 3600 })
  const client = await openChat(seller, await chatOf(mintBuyer(app), seller))
  // The ban as stored, without the broadcast that closes sockets (as if this socket opened while it was on its way).
  await addBan(app.db, { userId: id, registered: true }, 'spam', 'mod-1')
  client.send({ type: 'auth', token: registeredUser(id, { expiresInSeconds: 7200 }).token })
  const closed = await closeOf(client, Date.now())
  t.equal(closed.code, 4004)
  t.equal(closed.reason, 'banned')
  t.same(client.pending('auth_ok'), [], 'no auth_ok for a banned person')
})
