// Tests the spam limits: empty chats stay out of the seller's inbox, new chats per guest per hour, and the same text into many chats.
import t from 'tap'
import { buildTestApp, listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { redisEnv, skipWithoutRedis } from '../fixtures/redis.js'
import { connect } from '../fixtures/ws-client.js'
import type { SpamSuspectedEvent } from '../../src/safety/safety-events.js'

t.test("a chat reaches the seller's inbox, counts and inbox events only with its first message", async (t) => {
  const { app, wsUrl } = await listenTestApp(t)
  const sellerUser = registeredUser('quiet-seller')
  const seller = chatApi(app, sellerUser)
  const buyer = chatApi(app, await anonymousBuyer(app))
  const inbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${sellerUser.token}`)
  await inbox.barrier()
  const opened = await buyer.openChat('L1', sellerUser.id)
  t.equal(opened.status, 201, 'opening stays instant for the buyer')
  t.same((await seller.myChats()).body, { chats: [], total: 0 })
  t.same((await seller.grouped()).body, [])
  t.same((await seller.unread()).body, { total: 0, chats: 0 })
  t.equal((await seller.chat(opened.body.id)).status, 200, 'the seller may still open it by id')
  await buyer.send(opened.body.id, 'is it available?')
  const first = await inbox.next('chat_updated')
  t.equal(first.chat.last_seq, 1, 'the first inbox event is the first message, not the empty chat')
  t.equal((await seller.myChats()).body.total, 1)
})

t.test('CHATS_PER_HOUR limits new chats per guest, with Retry-After', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { CHATS_PER_HOUR: '3' }))
  const guest = chatApi(app, await anonymousBuyer(app))
  for (const listing of ['L1', 'L2', 'L3']) t.equal((await guest.openChat(listing, 'seller-1')).status, 201)
  const refused = await guest.openChat('L4', 'seller-2')
  t.equal(refused.status, 429)
  t.equal(refused.error?.code, 'rate_limited')
  const retryAfter = Number(refused.response.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`)
  t.equal((await guest.openChat('L1', 'seller-1')).status, 200, 'reopening an existing chat is not a new chat')
  t.equal((await chatApi(app, await anonymousBuyer(app)).openChat('L4', 'seller-2')).status, 201, 'another guest has their own count')
  const member = chatApi(app, registeredUser('member'))
  for (const listing of ['L1', 'L2', 'L3', 'L4']) t.equal((await member.openChat(listing, 'seller-1')).status, 201, 'registered buyers are not limited')
})

t.test('CHATS_PER_HOUR holds across instances', { skip: postgresUrl === null ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database' : false }, async (t) => {
  const config = testConfig(t, { CHATS_PER_HOUR: '2', REDIS_URL: '' })
  const a = await buildTestApp(t, config)
  const b = await buildTestApp(t, sameDatabase(config, { CHATS_PER_HOUR: '2', REDIS_URL: '' }))
  const guestUser = await anonymousBuyer(a)
  t.equal((await chatApi(a, guestUser).openChat('L1', 's')).status, 201)
  t.equal((await chatApi(b, guestUser).openChat('L2', 's')).status, 201)
  t.equal((await chatApi(a, guestUser).openChat('L3', 's')).error?.code, 'rate_limited')
  t.equal((await chatApi(b, guestUser).openChat('L3', 's')).error?.code, 'rate_limited')
})

t.test('the same text into more than SPAM_SAME_TEXT_CHATS chats is held', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { SPAM_SAME_TEXT_CHATS: '2' }))
  const suspected: SpamSuspectedEvent[] = []
  app.safetyEvents = { chatReported: () => {}, spamSuspected: (event) => { suspected.push(event) } }
  const spammerUser = await anonymousBuyer(app)
  const spammer = chatApi(app, spammerUser)
  const chats = []
  for (const seller of ['s1', 's2', 's3', 's4']) chats.push((await spammer.openChat('L1', seller)).body.id)
  const [c1, c2, c3, c4] = chats as [string, string, string, string]
  t.equal((await spammer.send(c1, 'Cheap iPhones at my shop!')).status, 201)
  t.equal((await spammer.send(c2, 'cheap  iphones at my shop')).status, 201)
  const held = await spammer.send(c3, 'CHEAP IPHONES, at my shop!!')
  t.equal(held.status, 429)
  t.equal(held.error?.code, 'spam_suspected')
  t.same((await spammer.history(c3)).body.messages, [], 'nothing was stored')
  t.equal(suspected.length, 1)
  t.equal(suspected[0]?.chat_id, c3)
  t.equal(suspected[0]?.sender.userId, spammerUser.id)
  t.equal((await spammer.send(c1, 'Cheap iPhones at my shop!')).status, 201, 'the same chats again are not new chats')
  t.equal((await spammer.send(c3, 'a different question')).status, 201, 'other text still goes through')
  const socket = await connect(t, `${wsUrl}/api/chat/ws/${c4}?token=${spammerUser.token}`)
  await socket.next('history')
  socket.send({ type: 'message', message_text: 'cheap iphones at my shop', client_message_id: 'spam-1' })
  t.equal((await socket.next('error')).code, 'spam_suspected')
  const other = chatApi(app, await anonymousBuyer(app))
  const theirs = (await other.openChat('L1', 's1')).body.id
  t.equal((await other.send(theirs, 'Cheap iPhones at my shop!')).status, 201, 'the count is per person')
})

t.test('a seller may answer many buyers with the same text; as a buyer the same person is held', async (t) => {
  const { app } = await listenTestApp(t, testConfig(t, { SPAM_SAME_TEXT_CHATS: '2' }))
  const sellerUser = registeredUser('busy-seller')
  const seller = chatApi(app, sellerUser)
  const chats: string[] = []
  for (let i = 0; i < 4; i++) {
    const buyer = chatApi(app, await anonymousBuyer(app))
    const chat = (await buyer.openChat('L1', sellerUser.id)).body.id
    t.equal((await buyer.send(chat, 'Is it still available?')).status, 201, 'each buyer asks once')
    chats.push(chat)
  }
  for (const chat of chats) t.equal((await seller.send(chat, 'Yes, still available!')).status, 201, 'the seller answers every buyer')
  const bought = (await seller.openChat('L9', 's1')).body.id
  t.equal((await seller.send(bought, 'Yes, still available!')).error?.code, 'spam_suspected', 'writing to another seller, they are a buyer')
  t.equal((await seller.send(bought, 'Hello, is the lamp for sale?')).status, 201, 'with their own question')
})

t.test('the same-text count holds across instances that share Redis', { skip: postgresUrl === null ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database' : skipWithoutRedis }, async (t) => {
  const config = testConfig(t, { SPAM_SAME_TEXT_CHATS: '2', ...redisEnv(t) })
  const a = await buildTestApp(t, config)
  const b = await buildTestApp(t, sameDatabase(config, { SPAM_SAME_TEXT_CHATS: '2' }))
  const spammerUser = await anonymousBuyer(a)
  const chats = []
  for (const seller of ['s1', 's2', 's3']) chats.push((await chatApi(a, spammerUser).openChat('L1', seller)).body.id)
  const [c1, c2, c3] = chats as [string, string, string]
  t.equal((await chatApi(a, spammerUser).send(c1, 'Cheap iPhones at my shop!')).status, 201)
  t.equal((await chatApi(b, spammerUser).send(c2, 'Cheap iPhones at my shop!')).status, 201)
  const held = await chatApi(a, spammerUser).send(c3, 'cheap iphones at my shop')
  t.equal(held.error?.code, 'spam_suspected', 'each instance counts the other\'s sends')
  t.equal((await chatApi(b, spammerUser).send(c3, 'cheap iphones at my shop')).error?.code, 'spam_suspected')
})
