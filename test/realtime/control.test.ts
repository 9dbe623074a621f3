// Control messages: closeUser and closeChat close the right sockets with the given code, on this instance and on every other.
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { listenTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { mintBuyer } from '../fixtures/protocol-suite.js'
import { redisEnv, redisUrl } from '../fixtures/redis.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, type WsClient } from '../fixtures/ws-client.js'

const skipTwo = redisUrl === null
  ? 'REDIS_URL is not set: two instances need a Redis'
  : postgresUrl === null
    ? 'DATABASE_URL is not set: two instances cannot share an in-memory PGlite database'
    : false

function keyOf (user: TestUser): string {
  return `${user.registered ? 'u' : 'a'}:${user.id}`
}

async function openChat (t: Test, app: App, buyer: TestUser, seller: TestUser): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: `l-${Math.random()}`, seller_id: seller.id } })
  t.equal(response.statusCode, 201)
  return response.json().id as string
}

async function chatSocket (t: Test, wsUrl: string, chatId: string, user: TestUser, label: string): Promise<WsClient> {
  const socket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${user.token}`, {}, label)
  await socket.next('history')
  return socket
}

t.test('in-process: closeUser closes every socket of that person with the code, and nobody else', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t))
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-control-${process.pid}`)
  const chatId = await openChat(t, app, buyer, seller)
  const buyerTab = await chatSocket(t, wsUrl, chatId, buyer, 'buyer tab')
  const buyerOtherTab = await chatSocket(t, wsUrl, chatId, buyer, 'buyer other tab')
  const buyerInbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${buyer.token}`, {}, 'buyer inbox')
  const sellerTab = await chatSocket(t, wsUrl, chatId, seller, 'seller tab')

  await app.connections.closeUser(keyOf(buyer), 4003, 'banned')
  for (const socket of [buyerTab, buyerOtherTab, buyerInbox]) t.same(await socket.closed, { code: 4003, reason: 'banned' })
  // The seller's socket stays open and served: it is told the buyer went offline.
  await sellerTab.next('presence', (frame) => JSON.stringify(frame.online) === JSON.stringify([seller.id]))
})

t.test('in-process: closeChat closes the sockets open on that chat only', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t))
  const buyer = mintBuyer(app)
  const seller = registeredUser(`seller-control-chat-${process.pid}`)
  const chatId = await openChat(t, app, buyer, seller)
  const otherChatId = await openChat(t, app, buyer, seller)
  const buyerTab = await chatSocket(t, wsUrl, chatId, buyer, 'buyer tab')
  const sellerTab = await chatSocket(t, wsUrl, chatId, seller, 'seller tab')
  const otherTab = await chatSocket(t, wsUrl, otherChatId, buyer, 'buyer on another chat')
  const sellerInbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`, {}, 'seller inbox')

  await app.connections.closeChat(chatId, 4004, 'recheck')
  for (const socket of [buyerTab, sellerTab]) t.same(await socket.closed, { code: 4004, reason: 'recheck' })
  // Still served: a message on the other chat reaches the buyer's socket there and the seller's inbox.
  const sent = await app.inject({ method: 'POST', url: `/api/chat/chats/${otherChatId}/messages`, headers: seller.headers, payload: { message_text: 'still here', client_message_id: 'c-1' } })
  t.equal(sent.statusCode, 201)
  t.equal((await otherTab.next('message')).message.message_text, 'still here')
  t.equal((await sellerInbox.next('chat_updated')).chat.id, otherChatId)
})

t.test('two instances: closeUser and closeChat on one close the sockets on both', { skip: skipTwo }, async (t) => {
  const env = redisEnv(t)
  const config = testConfig(t, env)
  const a = await listenTestApp(t, config)
  const b = await listenTestApp(t, sameDatabase(config, env))
  const buyer = mintBuyer(a.app)
  const seller = registeredUser(`seller-control-two-${process.pid}`)
  const chatId = await openChat(t, a.app, buyer, seller)

  const buyerOnA = await chatSocket(t, a.wsUrl, chatId, buyer, 'buyer on A')
  const buyerOnB = await chatSocket(t, b.wsUrl, chatId, buyer, 'buyer on B')
  const sellerOnB = await chatSocket(t, b.wsUrl, chatId, seller, 'seller on B')
  await a.app.connections.closeUser(keyOf(buyer), 4003, 'banned')
  t.same(await buyerOnA.closed, { code: 4003, reason: 'banned' }, 'closed on A')
  t.same(await buyerOnB.closed, { code: 4003, reason: 'banned' }, 'closed on B')
  // The seller's socket on B stays open and served: it is told the buyer went offline.
  await sellerOnB.next('presence', (frame) => JSON.stringify(frame.online) === JSON.stringify([seller.id]))

  const sellerOnA = await chatSocket(t, a.wsUrl, chatId, seller, 'seller on A')
  await b.app.connections.closeChat(chatId, 4004, 'recheck')
  t.same(await sellerOnA.closed, { code: 4004, reason: 'recheck' }, 'closed on A')
  t.same(await sellerOnB.closed, { code: 4004, reason: 'recheck' }, 'closed on B')
})
