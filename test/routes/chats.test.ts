// Chats over REST: create-or-get, the caller's chat list (roles, order, paging) and hiding a chat for one side.
import t from 'tap'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' }))
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

t.test('opening a chat creates it once and returns it after that', async (t) => {
  const buyerUser = await anonymousBuyer(app)
  const buyer = chatApi(app, buyerUser)

  const created = await buyer.openChat(42, 'open-seller')
  t.equal(created.status, 201)
  t.match(created.body, {
    listing_id: '42',
    seller_id: 'open-seller',
    buyer_id: buyerUser.id,
    buyer_is_registered: false,
    buyer_label: 'Buyer 1',
    role: 'buyer',
    counterpart_id: 'open-seller',
    last_seq: 0,
    my_last_read_seq: 0,
    other_last_read_seq: 0,
    unread_count: 0,
    last_message: null,
    last_message_sender_id: null,
    last_message_time: null,
    created_at: ISO,
    updated_at: ISO
  })

  const again = await buyer.openChat('42', 'open-seller')
  t.equal(again.status, 200, 'numeric and string listing ids are the same listing')
  t.same(again.body, created.body)

  const otherListing = await buyer.openChat('43', 'open-seller')
  t.equal(otherListing.status, 201)
  t.not(otherListing.body.id, created.body.id)
  t.equal(otherListing.body.buyer_label, 'Buyer 1', 'same buyer, same label with that seller')

  const registered = await chatApi(app, registeredUser('open-buyer')).openChat(42, 'open-seller')
  t.equal(registered.status, 201)
  t.match(registered.body, { buyer_is_registered: true, buyer_label: null, buyer_id: 'open-buyer' })

  const asSeller = await chatApi(app, registeredUser('open-seller')).chat(created.body.id)
  t.match(asSeller.body, { role: 'seller', counterpart_id: buyerUser.id, buyer_label: 'Buyer 1' })
})

t.test('create-or-get refuses self-chats and bad input', async (t) => {
  const seller = registeredUser('7')
  const api = chatApi(app, seller)
  const self = await api.openChat('1', '7')
  t.equal(self.status, 400)
  t.equal(self.error?.code, 'cannot_chat_with_self')
  const numericSelf = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: seller.headers, payload: { listing_id: 1, seller_id: 7 } })
  t.equal(numericSelf.json().error.code, 'cannot_chat_with_self', 'a numeric seller id is the same user')

  const buyer = registeredUser('bad-input-buyer')
  for (const payload of [{}, { listing_id: '1' }, { seller_id: 's' }, { listing_id: '', seller_id: 's' }, { listing_id: '   ', seller_id: 's' },
    { listing_id: '1', seller_id: '\t' }, { listing_id: 'x'.repeat(201), seller_id: 's' }, { listing_id: { id: 1 }, seller_id: 's' },
    { listing_id: '1', seller_id: null }, { listing_id: [1], seller_id: 's' }]) {
    const response = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload })
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.equal(response.json().error.code, 'validation_failed')
  }
  const badJson = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: { ...buyer.headers, 'content-type': 'application/json' }, payload: '{"listing_id":' })
  t.equal(badJson.statusCode, 400)
  t.equal(badJson.json().error.code, 'bad_request')
  const numeric = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 5, seller_id: 12 } })
  t.equal(numeric.statusCode, 201, 'numbers are fine')
  t.match(numeric.json(), { listing_id: '5', seller_id: '12' })
  const stored = await app.db.selectFrom('chats').select(['listing_id', 'seller_id']).where('buyer_id', 'in', ['7', 'bad-input-buyer']).execute()
  t.same(stored, [{ listing_id: '5', seller_id: '12' }], 'nothing else was created')
})

t.test('my chats: both roles, newest activity first, paged', async (t) => {
  // list-user sells on two listings and buys from someone else.
  const me = registeredUser('list-user')
  const mine = chatApi(app, me)
  const buyers = [registeredUser('list-buyer-1'), await anonymousBuyer(app), registeredUser('list-buyer-3')]
  const chatIds: string[] = []
  for (const [i, buyer] of buyers.entries()) {
    chatIds.push((await chatApi(app, buyer).openChat(`list-${i % 2}`, 'list-user')).body.id)
  }
  const bought = (await mine.openChat('elsewhere', 'list-other-seller')).body.id
  // Activity order, oldest to newest: chat 1, bought, chat 0, chat 2 (message timestamps decide).
  const order = [chatIds[1], bought, chatIds[0], chatIds[2]] as string[]
  for (const [i, chatId] of order.entries()) {
    const sender = chatId === bought ? me : (buyers[chatIds.indexOf(chatId)] ?? me)
    t.equal((await chatApi(app, sender).send(chatId, `activity ${i}`)).status, 201)
  }
  const newestFirst = [...order].reverse()

  const all = await mine.myChats()
  t.equal(all.body.total, 4)
  t.same(all.body.chats.map((c) => c.id), newestFirst)
  t.same(all.body.chats.map((c) => c.role), newestFirst.map((id) => id === bought ? 'buyer' : 'seller'))

  const selling = newestFirst.filter((id) => id !== bought)
  for (const query of ['?role=seller', '?is_seller=true']) {
    const response = await mine.myChats(query)
    t.same(response.body.chats.map((c) => c.id), selling, query)
    t.equal(response.body.total, 3)
  }
  for (const query of ['?role=buyer', '?is_seller=false']) {
    const response = await mine.myChats(query)
    t.same(response.body.chats.map((c) => c.id), [bought], query)
    t.equal(response.body.total, 1)
  }

  const first = await mine.myChats('?limit=3')
  const second = await mine.myChats('?limit=3&offset=3')
  t.same([...first.body.chats, ...second.body.chats].map((c) => c.id), newestFirst, 'pages split the list without overlap')
  t.same([first.body.total, second.body.total], [4, 4])
  t.same((await mine.myChats('?offset=10')).body, { chats: [], total: 4 })

  for (const bad of ['?limit=0', '?limit=101', '?offset=-1', '?role=admin', '?is_seller=maybe', '?is_seller=1']) {
    const response = await mine.myChats(bad)
    t.equal(response.status, 400, bad)
    t.equal(response.error?.code, 'validation_failed')
  }
})

t.test('hiding a chat hides it for the caller only, until the other side writes', async (t) => {
  const buyerUser = await anonymousBuyer(app)
  const buyer = chatApi(app, buyerUser)
  const seller = chatApi(app, registeredUser('hide-seller'))
  const chatId = (await buyer.openChat('hide-1', 'hide-seller')).body.id
  await buyer.send(chatId, 'hello')

  const hidden = await buyer.hide(chatId)
  t.equal(hidden.status, 204)
  t.equal(hidden.response.body, '')
  t.same((await buyer.myChats()).body, { chats: [], total: 0 }, 'gone from the buyer’s list')
  t.equal((await seller.myChats()).body.total, 1, 'the seller keeps it')
  t.equal((await buyer.chat(chatId)).status, 200, 'still readable by id')
  t.equal((await buyer.hide(chatId)).status, 204, 'hiding twice is fine')

  await seller.send(chatId, 'still interested?')
  t.same((await buyer.myChats()).body.chats.map((c) => c.id), [chatId], 'back after the seller wrote')
  t.equal((await buyer.history(chatId)).body.messages.length, 2, 'with its whole history')
})

t.test('a buyer who opens a chat they hid gets it back in their list', async (t) => {
  const buyer = chatApi(app, await anonymousBuyer(app))
  const chatId = (await buyer.openChat('hide-2', 'hide-seller')).body.id
  await buyer.hide(chatId)
  t.same((await buyer.myChats()).body.total, 0)
  const reopened = await buyer.openChat('hide-2', 'hide-seller')
  t.equal(reopened.status, 200)
  t.equal(reopened.body.id, chatId, 'the same chat, not a new one')
  t.same((await buyer.myChats()).body.chats.map((c) => c.id), [chatId])
})
