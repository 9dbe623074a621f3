// Messages over REST: sending (cleaning, limits, retries), history pages by seq, read pointers and is_read.
import t from 'tap'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi, type ChatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser, type TestUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, {
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000',
  RATE_LIMIT_SEND_PER_MINUTE: '100000'
}))
let chats = 0

/** A fresh chat between a new anonymous buyer and a new seller. */
async function newChat (): Promise<{ chatId: string, buyer: ChatApi, seller: ChatApi, buyerUser: TestUser, sellerUser: TestUser }> {
  const n = ++chats
  const buyerUser = await anonymousBuyer(app)
  const sellerUser = registeredUser(`msg-seller-${n}`)
  const buyer = chatApi(app, buyerUser)
  const opened = await buyer.openChat(`listing-${n}`, sellerUser.id)
  if (opened.status !== 201) throw new Error(`open: ${opened.status}`)
  return { chatId: opened.body.id, buyer, seller: chatApi(app, sellerUser), buyerUser, sellerUser }
}

const seqs = (messages: Array<{ seq: number }>): number[] => messages.map((m) => m.seq)
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('text that merely contains "<" or "&" is acknowledged, stored and previewed exactly as typed (#19)', async (t) => {
  const { chatId, buyer } = await newChat()
  for (const typed of ['Sizes: <M> or <L>?', 'x<y>z', 'Tom &amp; Jerry', 'I <3 it & you?']) {
    const echoed = await buyer.send(chatId, typed)
    t.equal(echoed.body.message_text, typed, `acked as typed: ${typed}`)
    t.equal((await buyer.history(chatId)).body.messages.at(-1)?.message_text, typed, `stored as typed: ${typed}`)
    t.equal((await buyer.chat(chatId)).body.last_message, typed, `previewed as typed: ${typed}`)
  }
})

t.test('sending cleans the text and enforces the limits', async (t) => {
  const { chatId, buyer, buyerUser } = await newChat()

  const sent = await buyer.send(chatId, '  <script>alert(1)</script><b>Is it</b> still <i>available</i>?\r\n  ')
  t.equal(sent.status, 201)
  t.match(sent.body, { chat_id: chatId, seq: 1, sender_id: buyerUser.id, sender_is_registered: false, message_text: 'Is it still available?', client_message_id: null, is_read: false })
  t.match(sent.response.headers['content-type'], /^application\/json/)
  t.equal((await buyer.history(chatId)).body.messages[0]?.message_text, 'Is it still available?', 'stored clean')
  t.equal((await buyer.chat(chatId)).body.last_message, 'Is it still available?', 'preview clean')

  const cases: Array<[string, unknown, number, string]> = [
    ['2000 characters', 'x'.repeat(2000), 201, ''],
    ['2001 characters', 'x'.repeat(2001), 400, 'message_too_long'],
    ['20001 characters', 'x'.repeat(20_001), 400, 'message_too_long'],
    ['2000 emoji', '😀'.repeat(2000), 201, ''],
    ['2001 emoji', '😀'.repeat(2001), 400, 'message_too_long'],
    ['whitespace only', ' \n\t ', 400, 'empty_message'],
    ['markup only', '<p><br></p>', 400, 'empty_message'],
    ['an object', { text: 'hi' }, 400, 'validation_failed'],
    ['missing', undefined, 400, 'validation_failed']
  ]
  for (const [name, text, status, code] of cases) {
    const response = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers: buyerUser.headers, payload: { message_text: text } })
    t.equal(response.statusCode, status, name)
    if (code !== '') t.equal(response.json().error.code, code, name)
  }
  const stored = await app.db.selectFrom('messages').select('seq').where('chat_id', '=', chatId).orderBy('seq').execute()
  t.same(seqs(stored), [1, 2, 3], 'refused messages take no seq')

  for (const clientMessageId of ['', 'x'.repeat(129)]) {
    const response = await buyer.send(chatId, 'hi', clientMessageId)
    t.equal(response.status, 400)
    t.equal(response.error?.code, 'validation_failed')
  }
  const tooBig = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers: buyerUser.headers, payload: { message_text: 'x'.repeat(70_000) } })
  t.equal(tooBig.statusCode, 413)
  t.equal(tooBig.json().error.code, 'payload_too_large')
  const badJson = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers: { ...buyerUser.headers, 'content-type': 'application/json' }, payload: '{"message_text": ' })
  t.equal(badJson.statusCode, 400)
  t.notMatch(badJson.body, /at .*\.js/, 'no stack trace')
})

t.test('a retried client_message_id returns the original instead of storing a duplicate', async (t) => {
  const { chatId, buyer, seller } = await newChat()
  const first = await buyer.send(chatId, 'Hello', 'c-1')
  t.equal(first.status, 201)
  const retry = await buyer.send(chatId, 'Hello (edited on retry)', 'c-1')
  t.equal(retry.status, 200)
  t.same(retry.body, first.body, 'the original, unchanged')

  t.equal((await seller.send(chatId, 'Hi', 'c-1')).status, 201, 'the id is per sender')
  t.equal((await buyer.send(chatId, 'Another', 'c-2')).status, 201)
  const other = await newChat()
  t.equal((await other.buyer.send(other.chatId, 'Hello', 'c-1')).status, 201, 'and per chat')

  const history = await buyer.history(chatId)
  t.same(history.body.messages.map((m) => [m.seq, m.client_message_id, m.message_text]),
    [[1, 'c-1', 'Hello'], [2, 'c-1', 'Hi'], [3, 'c-2', 'Another']])
  t.equal((await seller.unread()).body.total, 1, 'the retry did not count as unread either')
})

t.test('history pages by seq in ascending order', async (t) => {
  const { chatId, buyer, seller } = await newChat()
  for (let i = 1; i <= 120; i++) {
    const response = await (i % 3 === 0 ? seller : buyer).send(chatId, `message ${i}`)
    if (response.status !== 201) throw new Error(`send ${i}: ${response.status}`)
  }
  const page = async (query: string) => {
    const response = await buyer.history(chatId, query)
    t.equal(response.status, 200, query)
    return { seqs: seqs(response.body.messages), hasMore: response.body.has_more }
  }

  t.same(await page(''), { seqs: range(71, 120), hasMore: true }, 'default: the newest 50')
  t.same(await page('?limit=100'), { seqs: range(21, 120), hasMore: true })
  t.same(await page('?limit=1'), { seqs: [120], hasMore: true })
  t.same(await page('?before_seq=71'), { seqs: range(21, 70), hasMore: true }, 'scrolling up')
  t.same(await page('?before_seq=21'), { seqs: range(1, 20), hasMore: false }, 'the top')
  t.same(await page('?after_seq=100'), { seqs: range(101, 120), hasMore: false }, 'catching up')
  t.same(await page('?after_seq=0&limit=10'), { seqs: range(1, 10), hasMore: true })
  t.same(await page('?after_seq=120'), { seqs: [], hasMore: false })
  t.same(await page('?after_seq=10&before_seq=15'), { seqs: [11, 12, 13, 14], hasMore: false }, 'a gap between two seqs')
  t.same(await page('?after_seq=10&before_seq=31&limit=10'), { seqs: range(11, 20), hasMore: true })
  t.same(await page('?offset=10&limit=5'), { seqs: range(106, 110), hasMore: true }, 'seed-era offset counts back from the newest')
  t.same(await page('?offset=118&limit=5'), { seqs: [1, 2], hasMore: false })

  const messages = (await buyer.history(chatId, '?after_seq=0&limit=3')).body.messages
  t.match(messages, [
    { seq: 1, message_text: 'message 1', sender_is_registered: false },
    { seq: 2, message_text: 'message 2' },
    { seq: 3, message_text: 'message 3', sender_id: 'msg-seller-' + String(chats), sender_is_registered: true }
  ])

  for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'before_seq=0', 'after_seq=-1', 'offset=-1',
    'before_seq=2147483648', 'after_seq=10000000000', 'offset=100000000000000000000']) {
    const response = await buyer.history(chatId, `?${bad}`)
    t.equal(response.status, 400, bad)
    t.equal(response.error?.code, 'validation_failed', bad)
  }
})

t.test('read pointers move forward only, never past the last message, and drive is_read', async (t) => {
  const { chatId, buyer, seller, sellerUser, buyerUser } = await newChat()
  for (const text of ['one', 'two', 'three']) await buyer.send(chatId, text)

  t.match((await seller.chat(chatId)).body, { last_seq: 3, my_last_read_seq: 0, unread_count: 3 })
  t.same((await seller.read(chatId, 2)).body, { chat_id: chatId, user_id: sellerUser.id, last_read_seq: 2 })
  t.same((await buyer.history(chatId)).body.messages.map((m) => m.is_read), [true, true, false], "is_read follows the seller's pointer")
  t.match((await buyer.chat(chatId)).body, { other_last_read_seq: 2, unread_count: 0 })
  t.match((await seller.chat(chatId)).body, { my_last_read_seq: 2, unread_count: 1 })

  t.equal((await seller.read(chatId, 1)).body.last_read_seq, 2, 'never backwards')
  t.equal((await seller.read(chatId, 0)).body.last_read_seq, 2)
  t.equal((await seller.read(chatId, 999)).body.last_read_seq, 3, 'capped at the last message')
  t.equal((await seller.read(chatId, 2_147_483_647)).body.last_read_seq, 3)
  for (const upToSeq of [2_147_483_648, -1, 1.5]) {
    const response = await seller.read(chatId, upToSeq)
    t.equal(response.status, 400, String(upToSeq))
    t.equal(response.error?.code, 'validation_failed')
  }

  // Replying moves the sender's own pointer: their own message is never unread for them.
  const reply = await seller.send(chatId, 'yes')
  t.match(reply.body, { seq: 4, is_read: false })
  t.match((await seller.chat(chatId)).body, { my_last_read_seq: 4, unread_count: 0 })
  t.match((await buyer.chat(chatId)).body, { my_last_read_seq: 3, unread_count: 1, last_message: 'yes', last_message_sender_id: sellerUser.id })

  // "Mark everything read" without a body, however the client frames the empty request.
  const bare = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/read`, headers: { ...buyerUser.headers, 'content-type': 'application/json' }, body: '' })
  t.equal(bare.statusCode, 200, bare.body)
  t.equal(bare.json().last_read_seq, 4)
  t.same((await seller.history(chatId)).body.messages.map((m) => m.is_read), [true, true, true, true])
  const emptyObject = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/read`, headers: sellerUser.headers, payload: {} })
  t.equal(emptyObject.statusCode, 200)

  const fresh = await newChat()
  t.equal((await fresh.seller.read(fresh.chatId)).body.last_read_seq, 0, 'an empty chat reads as 0')
})

t.test('the preview is the first 140 characters of the latest message', async (t) => {
  const { chatId, buyer } = await newChat()
  const long = 'Ж'.repeat(100) + '😀'.repeat(100)
  await buyer.send(chatId, long)
  const preview = (await buyer.chat(chatId)).body.last_message ?? ''
  t.equal([...preview].length, 140)
  t.equal(preview, `${'Ж'.repeat(100)}${'😀'.repeat(39)}…`, 'cut on a character boundary')
  t.equal((await buyer.history(chatId)).body.messages[0]?.message_text, long, 'the message itself is whole')
})
