// Races that must not matter: parallel create-or-get, retried sends, concurrent senders and new buyers' labels.
import t from 'tap'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi, type Reply } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000',
  RATE_LIMIT_SEND_PER_MINUTE: '100000'
}))

const statuses = (replies: Array<Reply<unknown>>): number[] => replies.map((r) => r.status).sort()
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const times = <T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => fn(i)))

async function chatRows (listingId: string, sellerId: string) {
  return await app.db.selectFrom('chats').selectAll().where('listing_id', '=', listingId).where('seller_id', '=', sellerId).execute()
}

t.test('parallel identical create-or-get requests make one chat', async (t) => {
  for (const buyer of [await anonymousBuyer(app), registeredUser('race-buyer')]) {
    const replies = await times(12, async () => await chatApi(app, buyer).openChat(`race-${buyer.id}`, 'race-seller'))
    t.same(statuses(replies), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201], 'one created, the rest got it')
    t.equal(new Set(replies.map((r) => r.body.id)).size, 1, 'everyone got the same chat')
    const rows = await chatRows(`race-${buyer.id}`, 'race-seller')
    t.equal(rows.length, 1, 'one row in the database')
    t.equal(rows[0]?.id, replies[0]?.body.id)
  }
})

t.test('parallel sends with one client_message_id store one message', async (t) => {
  const buyer = await anonymousBuyer(app)
  const api = chatApi(app, buyer)
  const chatId = (await api.openChat('dup-1', 'dup-seller')).body.id

  const replies = await times(12, async (i) => await api.send(chatId, `attempt ${i}`, 'client-1'))
  t.same(statuses(replies), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  const created = replies.find((r) => r.status === 201)
  for (const reply of replies) t.same(reply.body, created?.body, 'every retry answers with the stored message')
  const stored = await app.db.selectFrom('messages').selectAll().where('chat_id', '=', chatId).execute()
  t.equal(stored.length, 1)
  t.equal(stored[0]?.message_text, created?.body.message_text)

  t.equal((await api.send(chatId, 'next')).body.seq, 2, 'the losing retries consumed no seq')
})

t.test('30 concurrent sends from both sides get seqs exactly 1..30', async (t) => {
  const buyer = await anonymousBuyer(app)
  const seller = registeredUser('seq-seller')
  const chatId = (await chatApi(app, buyer).openChat('seq-1', 'seq-seller')).body.id
  const replies = await times(30, async (i) => await chatApi(app, i % 2 === 0 ? buyer : seller).send(chatId, `m${i}`))

  t.same(statuses(replies), Array(30).fill(201))
  t.same(replies.map((r) => r.body.seq).sort((a, b) => a - b), range(1, 30), 'the acks carry 1..30, each once')
  const stored = await app.db.selectFrom('messages').select(['seq', 'message_text', 'sender_id']).where('chat_id', '=', chatId).orderBy('seq').execute()
  t.same(stored.map((m) => m.seq), range(1, 30), 'stored gap-free')
  for (const reply of replies) {
    t.same(stored[reply.body.seq - 1], { seq: reply.body.seq, message_text: reply.body.message_text, sender_id: reply.body.sender_id }, 'each ack names its stored row')
  }
  const chat = await app.db.selectFrom('chats').select(['last_seq']).where('id', '=', chatId).executeTakeFirstOrThrow()
  t.equal(chat.last_seq, 30)
})

t.test('concurrent sends mixing new messages and retries stay gap-free', async (t) => {
  const buyer = await anonymousBuyer(app)
  const seller = registeredUser('mix-seller')
  const chatId = (await chatApi(app, buyer).openChat('mix-1', 'mix-seller')).body.id
  // 10 messages, each sent twice at once (a client and its retry), from both sides.
  const replies = await times(20, async (i) => {
    const n = i % 10
    return await chatApi(app, n % 2 === 0 ? buyer : seller).send(chatId, `m${n}`, `c${n}`)
  })
  t.same(statuses(replies), [...Array(10).fill(200), ...Array(10).fill(201)])
  const stored = await app.db.selectFrom('messages').select(['seq', 'client_message_id']).where('chat_id', '=', chatId).orderBy('seq').execute()
  t.same(stored.map((m) => m.seq), range(1, 10))
  t.same(stored.map((m) => m.client_message_id).sort(), range(0, 9).map((n) => `c${n}`).sort(), 'each message once')
})

t.test('anonymous buyers arriving at once get distinct labels, kept across listings', async (t) => {
  const seller = 'label-seller'
  const buyers = await times(8, async () => await anonymousBuyer(app))
  const first = await times(8, async (i) => await chatApi(app, buyers[i]!).openChat('label-L1', seller))
  t.same(statuses(first), Array(8).fill(201))
  t.same(first.map((r) => r.body.buyer_label).sort((a, b) => Number(a?.slice(6)) - Number(b?.slice(6))), range(1, 8).map((n) => `Buyer ${n}`),
    'labels 1..8, no repeats')

  // The same buyers on another listing, at once, with a newcomer racing them.
  const newcomer = await anonymousBuyer(app)
  const [second, newcomerReply] = await Promise.all([
    times(8, async (i) => await chatApi(app, buyers[i]!).openChat('label-L2', seller)),
    chatApi(app, newcomer).openChat('label-L2', seller)
  ])
  t.same(second.map((r) => r.body.buyer_label), first.map((r) => r.body.buyer_label), 'each buyer keeps their label')
  t.equal(newcomerReply.body.buyer_label, 'Buyer 9')

  // One buyer opening two listings at once is still one buyer.
  const twice = await anonymousBuyer(app)
  const both = await Promise.all([chatApi(app, twice).openChat('label-L3', seller), chatApi(app, twice).openChat('label-L4', seller)])
  t.same(both.map((r) => r.body.buyer_label), ['Buyer 10', 'Buyer 10'])

  const labels = await app.db.selectFrom('seller_buyer_labels').select(['label']).where('seller_id', '=', seller).orderBy('label').execute()
  t.same(labels.map((l) => l.label), range(1, 10), 'one label per buyer in the database')
  // What the seller sees agrees with what the buyers were told (once each chat has a message).
  await Promise.all(first.map(async (r, i) => await chatApi(app, buyers[i]!).send(r.body.id, 'hello')))
  const inbox = (await chatApi(app, registeredUser(seller)).grouped()).body
  const l1 = inbox.find((g) => g.listing_id === 'label-L1')
  t.same(new Map(l1?.chats.map((c) => [c.buyer_id, c.buyer_label])), new Map(first.map((r) => [r.body.buyer_id, r.body.buyer_label])))
})
