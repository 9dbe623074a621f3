// Tests blocking: per pair of people across their chats, refused sends (REST and socket), new chats, summaries, inbox order and counts, live updates; also across two instances.
import t from 'tap'
import type { App } from '../../src/app.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { redisEnv, redisUrl } from '../fixtures/redis.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'
import type { TapTest } from '../fixtures/protocol-suite.js'

interface Instance { app: App, wsUrl: string }

/** The buyer is served by `b`, the seller by `s` (the same instance, or two behind one Redis). */
async function blockScenario (t: TapTest, b: Instance, s: Instance): Promise<void> {
  const sellerUser = registeredUser(`block-seller-${Math.random().toString(36).slice(2)}`)
  const buyerUser = await anonymousBuyer(b.app)
  const buyer = chatApi(b.app, buyerUser)
  const seller = chatApi(s.app, sellerUser)
  const chat = (await buyer.openChat('L1', sellerUser.id)).body
  const other = (await buyer.openChat('L2', sellerUser.id)).body
  await buyer.send(chat.id, 'hello')
  await buyer.send(other.id, 'and this one')
  const quiet = chatApi(b.app, await anonymousBuyer(b.app))
  const third = (await quiet.openChat('L1', sellerUser.id)).body
  await quiet.send(third.id, 'someone else')

  const buyerInbox = await connect(t, `${b.wsUrl}/api/chat/ws/inbox?token=${buyerUser.token}`)
  const sellerInbox = await connect(t, `${s.wsUrl}/api/chat/ws/inbox?token=${sellerUser.token}`)
  const buyerSocket = await connect(t, `${b.wsUrl}/api/chat/ws/${chat.id}?token=${buyerUser.token}`)
  await buyerSocket.next('history')
  await Promise.all([buyerInbox.barrier(), sellerInbox.barrier()])

  const blocked = await seller.block(chat.id)
  t.equal(blocked.status, 200)
  t.equal(blocked.body.blocked_by_me, true)
  t.equal(blocked.body.blocked_by_other, false)
  // Both sides hear of both chats between them.
  for (const id of [chat.id, other.id]) {
    const seen = await sellerInbox.next('chat_updated', (f) => f.chat.id === id && f.chat.blocked_by_me === true)
    t.equal(seen.chat.blocked_by_other, false)
    const heard = await buyerInbox.next('chat_updated', (f) => f.chat.id === id && f.chat.blocked_by_other === true)
    t.equal(heard.chat.blocked_by_me, false)
  }

  const refused = await buyer.send(other.id, 'let me in')
  t.equal(refused.status, 403)
  t.equal(refused.error?.code, 'blocked', 'the block covers every chat between the two')
  buyerSocket.send({ type: 'message', message_text: 'over the socket', client_message_id: 'ws-1' })
  const frame = await buyerSocket.next('error')
  t.equal(frame.code, 'blocked')
  t.equal((await buyer.history(chat.id)).body.messages.length, 1, 'nothing was stored')
  t.equal((await buyer.openChat('L3', sellerUser.id)).error?.code, 'blocked', 'no new chat with the blocker')
  t.equal((await buyer.openChat('L1', sellerUser.id)).status, 200, 'an existing chat still opens, to read it')
  t.equal((await seller.history(chat.id)).body.messages.length, 1, 'the blocker still reads the history')

  // Out of the blocker's counts, last in their list, out of the grouped inbox unless asked for.
  t.same((await seller.unread()).body, { total: 1, chats: 1 })
  t.same((await seller.myChats('?role=seller')).body.chats.map((c) => c.id).at(0), third.id)
  const grouped = (await seller.grouped()).body
  t.same(grouped.flatMap((g) => g.chats.map((c) => c.id)), [third.id])
  const all = await s.app.inject({ url: `/api/chat/chats/seller/${sellerUser.id}/grouped?blocked=include`, headers: sellerUser.headers })
  t.equal(all.json().flatMap((g: { chats: unknown[] }) => g.chats).length, 3)

  t.equal((await seller.block(chat.id)).status, 200, 'blocking again is harmless')
  t.equal((await seller.unblock(other.id)).status, 204, 'lifting it works from any chat of the pair')
  await buyerInbox.next('chat_updated', (f) => f.chat.id === chat.id && f.chat.blocked_by_other === false)
  t.equal((await seller.unblock(chat.id)).status, 204, 'lifting it again is harmless')
  t.equal((await buyer.send(chat.id, 'thanks')).status, 201)
  t.equal((await buyer.chat(chat.id)).body.blocked_by_other, false)
}

t.test('blocking on one instance', async (t) => {
  const instance = await listenTestApp(t)
  await blockScenario(t, instance, instance)
})

t.test('only participants block, and a buyer can block the seller', async (t) => {
  const { app } = await listenTestApp(t)
  const sellerUser = registeredUser('seller-x')
  const buyerUser = registeredUser('buyer-x')
  const chat = (await chatApi(app, buyerUser).openChat('L1', sellerUser.id)).body
  t.equal((await chatApi(app, registeredUser('stranger')).block(chat.id)).status, 404)
  t.equal((await chatApi(app, buyerUser).block('not-a-chat')).status, 404)
  t.equal((await chatApi(app, buyerUser).block(chat.id)).body.blocked_by_me, true)
  const refused = await chatApi(app, sellerUser).send(chat.id, 'buy it')
  t.equal(refused.error?.code, 'blocked')
  // The blocker may still open a new chat; it starts out blocked.
  const fresh = await chatApi(app, buyerUser).openChat('L2', sellerUser.id)
  t.equal(fresh.status, 201)
  t.equal(fresh.body.blocked_by_me, true)
})

const skip = redisUrl === null
  ? 'REDIS_URL is not set: blocking across instances needs a Redis'
  : postgresUrl === null ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database' : false

t.test('blocking across two instances', { skip }, async (t) => {
  const env = redisEnv(t)
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  await blockScenario(t, a, b)
})
