// The buyer-to-seller conversation over REST, end to end: anonymous session → chat → send → read → inbox.
import t from 'tap'
import { buildTestApp } from '../fixtures/app.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

t.test('an anonymous buyer talks to a seller and the seller reads it', async (t) => {
  const app = await buildTestApp(t)
  const buyer = await anonymousBuyer(app)
  const seller = registeredUser('seller-1')

  const created = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 42, seller_id: 'seller-1' } })
  t.equal(created.statusCode, 201, created.body)
  const chat = created.json()
  t.equal(chat.buyer_label, 'Buyer 1')
  t.equal(chat.role, 'buyer')

  const again = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: '42', seller_id: 'seller-1' } })
  t.equal(again.statusCode, 200)
  t.equal(again.json().id, chat.id)

  const sent = await app.inject({ method: 'POST', url: `/api/chat/chats/${chat.id}/messages`, headers: buyer.headers, payload: { message_text: '  <b>Is it</b> still available? ', client_message_id: 'c1' } })
  t.equal(sent.statusCode, 201, sent.body)
  t.equal(sent.json().message_text, 'Is it still available?')
  t.equal(sent.json().seq, 1)
  const retry = await app.inject({ method: 'POST', url: `/api/chat/chats/${chat.id}/messages`, headers: buyer.headers, payload: { message_text: 'Is it still available?', client_message_id: 'c1' } })
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().id, sent.json().id)

  const unread = await app.inject({ url: '/api/chat/unread-count', headers: seller.headers })
  t.same(unread.json(), { total: 1, chats: 1 })
  const grouped = await app.inject({ url: '/api/chat/chats/seller/seller-1/grouped', headers: seller.headers })
  t.equal(grouped.statusCode, 200, grouped.body)
  t.match(grouped.json(), [{ listing_id: '42', unread_count: 1, chats: [{ id: chat.id, last_message: 'Is it still available?', unread_count: 1 }] }])

  const read = await app.inject({ method: 'POST', url: `/api/chat/chats/${chat.id}/read`, headers: seller.headers })
  t.equal(read.statusCode, 200, read.body)
  t.same(read.json(), { chat_id: chat.id, user_id: 'seller-1', last_read_seq: 1 })
  const history = await app.inject({ url: `/api/chat/chats/${chat.id}/messages`, headers: buyer.headers })
  t.match(history.json(), { messages: [{ seq: 1, is_read: true }], has_more: false })
  t.same((await app.inject({ url: '/api/chat/unread-count', headers: seller.headers })).json(), { total: 0, chats: 0 })

  const outsider = registeredUser('someone-else')
  const peek = await app.inject({ url: `/api/chat/chats/${chat.id}`, headers: outsider.headers })
  const missing = await app.inject({ url: '/api/chat/chats/00000000-0000-4000-8000-000000000000', headers: outsider.headers })
  t.equal(peek.statusCode, 404)
  t.same({ ...peek.json().error, request_id: '' }, { ...missing.json().error, request_id: '' })
})
