// A claim on one instance takes effect on another: the guest's sockets there close with 4002, its token is refused, merged-chat sockets hear chat_merged.
import t from 'tap'
import type { App } from '../../src/app.js'
import { CLOSE_CHAT_CHANGED, CLOSE_IDENTITY_CLAIMED } from '../../src/protocol/limits.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl } from '../fixtures/redis.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'

const skip = redisUrl === null
  ? 'REDIS_URL is not set: the two-instance claim test needs a Redis'
  : postgresUrl === null
    ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database'
    : false

async function claim (app: App, user: TestUser, guest: TestUser) {
  const response = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', headers: user.headers, payload: { anonymous_token: guest.token } })
  return { status: response.statusCode, body: response.json() }
}

async function twoInstances (t: { teardown: (fn: () => unknown) => void }) {
  const env = redisEnv(t)
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  return { a, b }
}

t.test('claimed on A, felt on B', { skip }, async (t) => {
  const { a, b } = await twoInstances(t)
  const guest = mintBuyer(a.app)
  const seller = registeredUser(`seller-${process.pid}`)
  const user = registeredUser(`user-${process.pid}`)
  const guestChat = (await chatApi(b.app, guest).openChat('l-1', seller.id)).body
  const userChat = (await chatApi(a.app, user).openChat('l-1', seller.id)).body
  await chatApi(b.app, guest).send(guestChat.id, 'from the guest', 'g-1')
  // B has seen the guest unclaimed, so only the database can tell it otherwise afterwards.
  t.equal((await chatApi(b.app, guest).myChats()).status, 200)

  const guestOnB = await connect(t, `${b.wsUrl}/api/chat/ws/${guestChat.id}?token=${guest.token}`, {}, 'guest on B')
  await guestOnB.next('history')
  const sellerOnB = await connect(t, `${b.wsUrl}/api/chat/ws/${guestChat.id}?token=${seller.token}`, {}, 'seller on B')
  await sellerOnB.next('history')
  const inboxOnB = await connect(t, `${b.wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, 'seller inbox on B')
  await inboxOnB.barrier()
  // Subscriptions travel through Redis: a pong from A's side of the deployment is not needed, B's own barrier is.
  await sellerOnB.barrier()

  const claimed = await claim(a.app, user, guest)
  t.match(claimed.body, { claimed: 1, merged: 1 })
  t.equal((await guestOnB.closed).code, CLOSE_IDENTITY_CLAIMED, "A closed the guest's socket on B")
  t.match(await sellerOnB.next('chat_merged'), { from_chat_id: guestChat.id, to_chat_id: userChat.id })
  t.equal((await sellerOnB.closed).code, CLOSE_CHAT_CHANGED)
  t.match(await inboxOnB.next('chat_merged'), { to_chat_id: userChat.id })
  t.match((await inboxOnB.next('chat_updated', (f) => f.chat.id === userChat.id)).chat, { buyer_id: user.id, last_seq: 1 })
  const refused = await chatApi(b.app, guest).myChats()
  t.equal(refused.status, 401)
  t.equal(refused.error?.code, 'token_claimed', 'B refuses the token it accepted a moment ago')
  t.equal((await chatApi(b.app, user).history(userChat.id)).body.messages[0]?.message_text, 'from the guest')
})

t.test('two accounts claiming one guest on two instances at once: exactly one wins', { skip }, async (t) => {
  const { a, b } = await twoInstances(t)
  const guest = mintBuyer(a.app)
  const seller = registeredUser(`seller-race-${process.pid}`)
  const chat = (await chatApi(a.app, guest).openChat('l-1', seller.id)).body
  const first = registeredUser(`first-${process.pid}`)
  const second = registeredUser(`second-${process.pid}`)
  const results = await Promise.all([claim(a.app, first, guest), claim(b.app, second, guest)])
  t.same(results.map((r) => r.status).sort(), [200, 409])
  const winner = results[0]?.status === 200 ? first : second
  t.equal((await chatApi(a.app, seller).chat(chat.id)).body.buyer_id, winner.id)
})

t.test('sends on B racing a claim on A: every acked message is in the final chat once', { skip }, async (t) => {
  const { a, b } = await twoInstances(t)
  const guest = mintBuyer(a.app)
  const seller = registeredUser(`seller-sends-${process.pid}`)
  const user = registeredUser(`user-sends-${process.pid}`)
  const guestChat = (await chatApi(a.app, guest).openChat('l-1', seller.id)).body
  const userChat = (await chatApi(a.app, user).openChat('l-1', seller.id)).body
  const guestSocket = await connect(t, `${b.wsUrl}/api/chat/ws/${guestChat.id}?token=${guest.token}`, {}, 'guest on B')
  await guestSocket.next('history')
  for (let i = 0; i < 40; i++) guestSocket.send({ type: 'message', message_text: `g-${i}`, client_message_id: `g-${i}` })
  const sellerSends = Array.from({ length: 20 }, async (_, i) => await chatApi(b.app, seller).send(guestChat.id, `s-${i}`, `s-${i}`))
  // The claim starts while the guest's sends are being stored, not before the first one.
  await guestSocket.until((f) => f.type === 'ack', 'a first ack')
  t.equal((await claim(a.app, user, guest)).status, 200)
  await guestSocket.closed
  t.ok(guestSocket.frames.some((e) => e.frame.type === 'ack'), 'some guest messages were acked before the claim')
  const acked = [
    ...guestSocket.frames.filter((e) => e.frame.type === 'ack').map((e) => e.frame.message.id as string),
    ...(await Promise.all(sellerSends)).filter((r) => r.status === 201 || r.status === 200).map((r) => r.body.id)
  ]
  const history = (await chatApi(a.app, user).history(userChat.id, '?limit=100')).body.messages
  const ids = history.map((m) => m.id)
  t.equal(new Set(ids).size, ids.length, 'no message twice')
  t.same(history.map((m) => m.seq), history.map((_, i) => i + 1), 'seqs 1..n')
  t.ok(acked.every((id) => ids.includes(id)), `all ${acked.length} acked messages are in the final chat`)
  t.ok(history.every((m) => m.sender_is_registered), 'every message is the account\'s or the seller\'s')
})
