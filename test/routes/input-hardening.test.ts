// Hostile input (NUL, lone surrogates, Infinity, huge numbers, invisible text, empty JSON bodies) is a clear 4xx for
// its sender alone: never a 5xx, never an error log line, never another user's failed send.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { v4 as uuidv4 } from 'uuid'
import { backend, listenTestApp, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { logCapture } from '../fixtures/log-capture.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, refusal } from '../fixtures/ws-client.js'

const LIMITS = {
  LOG_LEVEL: 'info',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '100000',
  RATE_LIMIT_API_PER_MINUTE: '100000',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000'
}

const logs = logCapture()
const { app, wsUrl } = await listenTestApp(t, testConfig(t, LIMITS), { logStream: logs.stream })
/** Every test ends with this: client mistakes are never error-level log lines. */
function noErrorLogs (t: Test): void {
  t.same(logs.errors.map((line) => line.msg), [], 'no error-level log line')
  logs.errors.length = 0
}

let people = 0
/** A fresh seller and buyer with their chat. */
async function newChat (): Promise<{ chatId: string, buyer: TestUser, seller: TestUser }> {
  const n = ++people
  const seller = registeredUser(`seller-${n}`)
  const buyer = registeredUser(`buyer-${n}`)
  const opened = await chatApi(app, buyer).openChat(`listing-${n}`, seller.id)
  if (opened.status !== 201) throw new Error(`open chat: ${opened.status}`)
  return { chatId: opened.body.id, buyer, seller }
}

const post = async (user: TestUser, url: string, payload: unknown) =>
  await app.inject({ method: 'POST', url, headers: user.headers, payload: payload as Record<string, unknown> })

t.test(`one sender's unstorable message never fails the others riding in the same batch (${backend})`, async (t) => {
  const chats = await Promise.all(Array.from({ length: 30 }, async () => await newChat()))
  const sends = chats.flatMap(({ chatId, buyer, seller }, i) => [
    post(buyer, `/api/chat/chats/${chatId}/messages`, { message_text: `hello ${i}`, client_message_id: `b-${i}` }),
    post(seller, `/api/chat/chats/${chatId}/messages`, { message_text: `reply ${i}`, client_message_id: `s-${i}` })
  ])
  const culprit = chats[7] as (typeof chats)[number]
  sends.splice(31, 0, post(culprit.buyer, `/api/chat/chats/${culprit.chatId}/messages`, { message_text: 'bad', client_message_id: 'bad\u0000id' }))
  const responses = await Promise.all(sends)
  const bad = responses.splice(31, 1)[0]
  t.equal(bad?.statusCode, 400)
  t.equal(bad?.json().error.code, 'validation_failed')
  t.same(responses.map((r) => r.statusCode), responses.map(() => 201), 'all sixty others are stored')
  for (const [i, { chatId, buyer }] of chats.entries()) {
    const history = await chatApi(app, buyer).history(chatId)
    // Both were sent at once, by two people: either may come first.
    t.same(history.body.messages.map((m) => m.message_text).sort(), [`hello ${i}`, `reply ${i}`], `chat ${i} holds both messages`)
  }
  noErrorLogs(t)
})

t.test('NUL anywhere is 400 validation_failed (in message text it is removed); so are ids the database would not give back as sent', async (t) => {
  const { chatId, buyer, seller } = await newChat()
  const api = chatApi(app, buyer)
  const cases: Array<[string, () => Promise<{ statusCode: number, json: () => any }>]> = [
    ['listing_id', async () => await post(buyer, '/api/chat/chats', { listing_id: 'l\u0000', seller_id: seller.id })],
    ['seller_id', async () => await post(buyer, '/api/chat/chats', { listing_id: 'l-nul', seller_id: 's\u0000' })],
    ['client_message_id', async () => await post(buyer, `/api/chat/chats/${chatId}/messages`, { message_text: 'hi', client_message_id: '\u0000' })],
    ['chat id in the path', async () => await app.inject({ url: '/api/chat/chats/%00', headers: buyer.headers })],
    ['chat id in the messages path', async () => await app.inject({ url: '/api/chat/chats/a%00b/messages', headers: buyer.headers })],
    ['seller id in the path', async () => await app.inject({ url: '/api/chat/chats/seller/%00/grouped', headers: seller.headers })],
    // The embedded database reads a leading U+FEFF back without it: the ack would differ from history.
    ['client_message_id starting with U+FEFF', async () => await post(buyer, `/api/chat/chats/${chatId}/messages`, { message_text: 'hi', client_message_id: '\ufeffid' })],
    ['listing_id starting with U+FEFF', async () => await post(buyer, '/api/chat/chats', { listing_id: '\ufeffl', seller_id: seller.id })]
  ]
  for (const [what, call] of cases) {
    const response = await call()
    t.equal(response.statusCode, 400, what)
    t.equal(response.json().error.code, 'validation_failed', what)
  }
  const sent = await api.send(chatId, 'a\u0000b\u0000c', 'nul-text')
  t.equal(sent.status, 201)
  t.equal(sent.body.message_text, 'abc', 'NUL is removed from message text')
  t.same((await api.history(chatId)).body.messages.map((m) => m.message_text), ['abc'])
  noErrorLogs(t)
})

t.test('a token whose user id the database cannot store is 401, whatever the route', async (t) => {
  // The last: an id too long for the unique indexes it lands in (random, so PostgreSQL cannot compress it).
  for (const id of ['a\u0000b', 'a\ud800b', '\udc00', '\ufeffa', randomBytes(3000).toString('base64')]) {
    const user = registeredUser(id)
    for (const url of ['/api/chat/chats/my', '/api/chat/unread-count', `/api/chat/chats/seller/${encodeURIComponent('x')}/grouped`]) {
      const response = await app.inject({ url, headers: user.headers })
      t.equal(response.statusCode, 401, `${JSON.stringify(id.slice(0, 20))} ${url}`)
    }
    const opened = await post(user, '/api/chat/chats', { listing_id: 'l', seller_id: 'someone' })
    t.equal(opened.statusCode, 401)
    t.equal((await refusal(`${wsUrl}/api/chat/ws/inbox?token=${user.token}`)).status, 401, 'inbox socket')
  }
  noErrorLogs(t)
})

t.test('Infinity, -Infinity and numbers beyond a database integer are 400 validation_failed on REST', async (t) => {
  const { chatId, buyer } = await newChat()
  await chatApi(app, buyer).send(chatId, 'one')
  const queries = [
    '?limit=Infinity', '?limit=-Infinity', '?before_seq=Infinity', '?before_seq=-Infinity', '?after_seq=Infinity',
    '?after_seq=-Infinity', '?offset=Infinity', '?offset=1e999', '?before_seq=2147483648', '?after_seq=99999999999'
  ]
  for (const query of queries) {
    const response = await app.inject({ url: `/api/chat/chats/${chatId}/messages${query}`, headers: buyer.headers })
    t.equal(response.statusCode, 400, `history${query}`)
    t.equal(response.json().error.code, 'validation_failed', `history${query}`)
  }
  for (const query of ['?offset=Infinity', '?offset=-Infinity', '?limit=Infinity', '?offset=2147483648']) {
    const response = await app.inject({ url: `/api/chat/chats/my${query}`, headers: buyer.headers })
    t.equal(response.statusCode, 400, `my chats${query}`)
  }
  for (const upTo of ['Infinity', '-Infinity', '1e999', 99999999999, 2147483648, -1]) {
    const response = await post(buyer, `/api/chat/chats/${chatId}/read`, { up_to_seq: upTo })
    t.equal(response.statusCode, 400, `read up_to_seq ${String(upTo)}`)
    t.equal(response.json().error.code, 'validation_failed')
  }
  const largest = await app.inject({ url: `/api/chat/chats/${chatId}/messages?after_seq=2147483647&before_seq=2147483647`, headers: buyer.headers })
  t.equal(largest.statusCode, 200, 'the largest database integer is accepted')
  const read = await post(buyer, `/api/chat/chats/${chatId}/read`, { up_to_seq: '1' })
  t.equal(read.statusCode, 200, 'a numeric string still counts as a number')
  noErrorLogs(t)
})

t.test('a socket with an after_seq the database cannot hold is refused with 400 before the upgrade', async (t) => {
  const { chatId, buyer } = await newChat()
  for (const afterSeq of ['2147483648', 'Infinity', '-Infinity', '1e999', '-1']) {
    const refused = await refusal(`${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}&after_seq=${afterSeq}`)
    t.equal(refused.status, 400, `after_seq=${afterSeq}`)
    t.equal(refused.body?.error.code, 'validation_failed')
  }
  const refused = await refusal(`${wsUrl}/api/chat/ws/a%00b?token=${buyer.token}`)
  t.equal(refused.status, 400, 'NUL in the chat id')
  noErrorLogs(t)
})

t.test('frames with numbers out of range or unstorable ids get validation_failed frames; the socket stays open', async (t) => {
  const { chatId, buyer } = await newChat()
  const socket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`)
  await socket.next('history')
  for (const upTo of [99999999999, 2147483648, -1, 1e999, 'Infinity']) { // eslint-disable-line @typescript-eslint/no-loss-of-precision -- 1e999 is meant to overflow
    socket.send(typeof upTo === 'number' && !Number.isFinite(upTo) ? '{"type":"read","up_to_seq":1e999}' : { type: 'read', up_to_seq: upTo })
    const error = await socket.next('error')
    t.equal(error.code, 'validation_failed', `up_to_seq ${String(upTo)}`)
  }
  for (const id of ['nul\u0000', 'lone\ud800', '\udfff']) {
    socket.send({ type: 'message', message_text: 'hi', client_message_id: id })
    const error = await socket.next('error')
    t.equal(error.code, 'validation_failed', JSON.stringify(id))
    t.equal(error.client_message_id, id, 'the error names the id the client sent')
  }
  socket.send({ type: 'message', message_text: 'still here', client_message_id: 'ok-1' })
  const ack = await socket.next('ack')
  t.equal(ack.message.message_text, 'still here')
  t.same(socket.take('error'), [], 'no internal_error frame')
  noErrorLogs(t)
})

t.test('lone surrogates in text: the ack carries exactly what history returns', async (t) => {
  const { chatId, buyer } = await newChat()
  const api = chatApi(app, buyer)
  const rest = await api.send(chatId, 'rest \ud800 x \udc00', 'lone-rest')
  t.equal(rest.status, 201)
  t.equal(rest.body.message_text, 'rest \ufffd x \ufffd')

  const socket = await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`)
  await socket.next('history')
  socket.send({ type: 'message', message_text: 'ws \udbff\ud83d\ude00', client_message_id: 'lone-ws' })
  const ack = await socket.next('ack')
  t.equal(ack.client_message_id, 'lone-ws')
  t.equal(ack.message.message_text, 'ws \ufffd😀', 'the unpaired half is replaced, the emoji kept')

  const history = (await api.history(chatId)).body.messages
  t.same(history.map((m) => [m.client_message_id, m.message_text]), [
    ['lone-rest', rest.body.message_text],
    ['lone-ws', ack.message.message_text]
  ], 'history equals what was acked')
  noErrorLogs(t)
})

t.test('a message of invisible characters only is empty_message; bidi controls are removed from text', async (t) => {
  const { chatId, buyer } = await newChat()
  const api = chatApi(app, buyer)
  for (const text of ['\u200b', '\u200b\u200c\u200d\u2060', '\ufeff', '\u2800\u3164', ' \u00a0\u2003\u200b ', '\u202e\u2066\u2069', '\ufe0f']) {
    const sent = await api.send(chatId, text)
    t.equal(sent.status, 400, JSON.stringify(text))
    t.equal(sent.error?.code, 'empty_message', JSON.stringify(text))
  }
  const sent = await api.send(chatId, 'pay \u202eoge\u202c here \u2067x\u2069, family 👨\u200d👩\u200d👧')
  t.equal(sent.status, 201)
  t.equal(sent.body.message_text, 'pay oge here x, family 👨\u200d👩\u200d👧', 'overrides and isolates go; zero-width joiners in emoji stay')
  t.same((await api.history(chatId)).body.messages.map((m) => m.message_text), [sent.body.message_text])
  noErrorLogs(t)
})

t.test('an empty body sent as application/json counts as no body on every route', async (t) => {
  const { chatId, buyer } = await newChat()
  const json = { 'content-type': 'application/json' }
  const anonymous = await app.inject({ method: 'POST', url: '/api/chat/anonymous', headers: json, payload: '' })
  t.equal(anonymous.statusCode, 201, '/anonymous')
  t.type(anonymous.json().token, 'string')
  for (const payload of ['', '  \n']) {
    const read = await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/read`, headers: { ...buyer.headers, ...json }, payload })
    t.equal(read.statusCode, 200, `/read with ${JSON.stringify(payload)}`)
  }
  const hide = await app.inject({ method: 'DELETE', url: `/api/chat/chats/${chatId}`, headers: { ...buyer.headers, ...json }, payload: '' })
  t.equal(hide.statusCode, 204, 'DELETE')
  // A body the route needs is still required, with the same error as any other invalid body.
  for (const url of ['/api/chat/chats', `/api/chat/chats/${chatId}/messages`]) {
    const response = await app.inject({ method: 'POST', url, headers: { ...buyer.headers, ...json }, payload: '' })
    t.equal(response.statusCode, 400, url)
    t.equal(response.json().error.code, 'validation_failed', url)
  }
  const broken = await app.inject({ method: 'POST', url: '/api/chat/anonymous', headers: json, payload: '{' })
  t.equal(broken.statusCode, 400, 'malformed JSON is still refused')
  noErrorLogs(t)
})

t.test('a chat id that is not a uuid but storable is still an indistinguishable 404', async (t) => {
  const { buyer } = await newChat()
  const response = await app.inject({ url: `/api/chat/chats/${uuidv4()}x`, headers: buyer.headers })
  t.equal(response.statusCode, 404)
  noErrorLogs(t)
})
