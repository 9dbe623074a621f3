// Display names from the marketplace token (AUTH_JWT_NAME_CLAIM): remembered per side of each chat, cleaned, in every summary and inbox event.
import { createSigner } from 'fast-jwt'
import t from 'tap'
import { buildTestApp, listenTestApp, testConfig, TEST_JWT_SECRET } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, type TestUser } from '../fixtures/users.js'
import { connect } from '../fixtures/ws-client.js'

const sign = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })
function named (id: string, claims: Record<string, unknown>): TestUser {
  const token = sign({ sub: id, exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
  return { id, token, registered: true, headers: { authorization: `Bearer ${token}` } }
}

t.test('each side\'s latest name is in the summaries, the grouped inbox and inbox events', async (t) => {
  const { app, wsUrl } = await listenTestApp(t)
  const seller = named(`seller-${process.pid}`, { name: 'Olena\'s <b>Shop</b>' })
  const buyer = named(`buyer-${process.pid}`, { name: '  Ivan\n\u202EPetrenko  ' })
  const inbox = await connect(t, `${wsUrl}/api/chat/ws/inbox?token=${seller.token}`)
  await inbox.barrier()
  const chat = (await chatApi(app, buyer).openChat('l-1', seller.id)).body
  t.equal(chat.buyer_display_name, 'Ivan Petrenko', 'one line, no bidi controls')
  t.equal(chat.seller_display_name, null, 'the seller has not shown up yet')
  t.equal(chat.buyer_number, null, 'registered buyers have no number')
  // A chat reaches the seller's inbox with its first message.
  await chatApi(app, buyer).send(chat.id, 'Is it still available?')
  t.match((await inbox.next('chat_updated')).chat, { buyer_display_name: 'Ivan Petrenko' })
  await chatApi(app, seller).send(chat.id, 'hello')
  t.match((await inbox.next('chat_updated')).chat, { seller_display_name: "Olena's Shop", buyer_display_name: 'Ivan Petrenko' })
  t.equal((await chatApi(app, buyer).chat(chat.id)).body.seller_display_name, "Olena's Shop", 'markup is not kept in a name')

  const renamed = named(buyer.id, { name: 'Ivan P.' })
  await chatApi(app, renamed).send(chat.id, 'hi')
  const grouped = (await chatApi(app, seller).grouped()).body
  t.match(grouped[0]?.chats[0], { buyer_display_name: 'Ivan P.', seller_display_name: "Olena's Shop", listing: { title: null, url: null } })
  t.equal((await chatApi(app, renamed).myChats()).body.chats[0]?.buyer_display_name, 'Ivan P.', 'the latest name wins')
})

t.test('names are capped at 100 code points; unusable claims are no name; guests keep a number', async (t) => {
  const app = await buildTestApp(t)
  const seller = named(`seller-${process.pid}`, { name: 12345 })
  const long = named(`long-${process.pid}`, { name: '😀'.repeat(150) })
  const chat = (await chatApi(app, long).openChat('l-1', seller.id)).body
  t.equal([...(chat.buyer_display_name ?? '')].length, 100)
  t.equal((await chatApi(app, seller).chat(chat.id)).body.seller_display_name, null, 'a non-string claim is no name')
  const guest = await anonymousBuyer(app)
  const guestChat = (await chatApi(app, guest).openChat('l-1', seller.id)).body
  t.equal(guestChat.buyer_number, 1)
  t.equal(guestChat.buyer_label, 'Buyer 1')
  t.equal(guestChat.buyer_display_name, null)
})

t.test('AUTH_JWT_NAME_CLAIM picks the claim', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { AUTH_JWT_NAME_CLAIM: 'display_name' }))
  const buyer = named(`buyer-${process.pid}`, { name: 'ignored', display_name: 'Chosen' })
  t.equal((await chatApi(app, buyer).openChat('l-1', 'seller-x')).body.buyer_display_name, 'Chosen')
})

t.test('a claim gives the claimed chats the account\'s name', async (t) => {
  const app = await buildTestApp(t)
  const guest = await anonymousBuyer(app)
  await chatApi(app, guest).openChat('l-1', 'seller-y')
  const user = named(`user-${process.pid}`, { name: 'Maria' })
  const response = await app.inject({ method: 'POST', url: '/api/chat/anonymous/claim', headers: user.headers, payload: { anonymous_token: guest.token } })
  t.match(response.json().chats[0], { buyer_display_name: 'Maria', buyer_number: null, buyer_label: null })
})
