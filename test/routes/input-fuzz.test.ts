// Fuzzing every way in (REST bodies, query strings, path segments, tokens, WebSocket frames) with hostile values:
// no 5xx, no internal_error frame, no error log line, /health still answers, and what is stored is what was acked.
import fc from 'fast-check'
import t from 'tap'
import { toPlainText } from '../../src/chat/sanitize.js'
import { isStorableText } from '../../src/chat/storable-text.js'
import { backend, fuzzRuns, fuzzSeed, listenTestApp, testConfig } from '../fixtures/app.js'
import { logCapture } from '../fixtures/log-capture.js'
import { registeredUser, type TestUser } from '../fixtures/users.js'
import { connect, type WsClient } from '../fixtures/ws-client.js'

const logs = logCapture()
const { app, wsUrl } = await listenTestApp(t, testConfig(t, {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000000',
  RATE_LIMIT_SEND_PER_MINUTE: '1000000',
  RATE_LIMIT_API_PER_MINUTE: '10000000',
  WS_MESSAGE_RATE: '1000000',
  WS_MESSAGE_BURST: '1000000'
}), { logStream: logs.stream })

const seller = registeredUser('fuzz-seller')
const buyer = registeredUser('fuzz-buyer')
const stranger = registeredUser('fuzz-stranger')
const opened = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: 'fuzz-listing', seller_id: seller.id } })
const chatId = (opened.json() as { id: string }).id
const sockets: WsClient[] = [
  await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${buyer.token}`, {}, 'buyer socket'),
  await connect(t, `${wsUrl}/api/chat/ws/${chatId}?token=${seller.token}`, {}, 'seller socket')
]
for (const socket of sockets) await socket.next('history')

// --- values -----------------------------------------------------------------------------------------------------

/** Pieces that broke or could break something: NUL, unpaired surrogates, bidi and invisible characters, markup, entities. */
const piece = fc.constantFrom(
  '\u0000', '\ud800', '\udfff', '\udbff', '\u202e', '\u2066', '\u2069', '\u200b', '\u200d', '\ufeff', '\u2800', '\u3164',
  '<', '>', '&', '&amp;', '&lt;', '&#0;', '<script>', '</script>', '<M>', '<img src=x onerror=alert(1)>', '<svg/onload=1>',
  '<!--', '\r\n', '\r', '\n', '\t', ' ', '😀', '👨\u200d👩', 'e\u0301', '\u0085', '\u007f', '\\', '"', "'", '%00', 'Infinity'
)
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))
const unit = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: piece, weight: 3 },
  { arbitrary: loneSurrogate, weight: 1 }
)
const text = fc.string({ unit, maxLength: 30 })
const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, 1, -1, 2, 2_147_483_647, 2_147_483_648, -2_147_483_649, 99_999_999_999, 1e21, Number.MAX_SAFE_INTEGER, 0.5, -0),
  fc.double()
)
/** Numbers as a query string or a JSON string carries them, coercible or not. */
const numberText = fc.oneof(
  number.map(String),
  fc.constantFrom('Infinity', '-Infinity', '+Infinity', '1e999', '-1e999', 'NaN', '0x10', '1e3', ' 1', '', '1.0', '00', '9'.repeat(30))
)
const jsonValue = fc.jsonValue({ maxDepth: 3, stringUnit: unit })
const value = fc.oneof(jsonValue, text, number, numberText, fc.boolean(), fc.constant(null))
/** A JSON text for one field: any value, or what JSON.stringify cannot make (1e999) and very deep nesting. */
const fieldJson = fc.oneof(
  { arbitrary: value.map((v) => JSON.stringify(v) ?? 'null'), weight: 8 },
  { arbitrary: fc.constantFrom('1e999', '-1e999', '1e-999', '99999999999', '2147483648', '-0', '1.5', '2147483647'), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 2000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`), weight: 1 }
)
/** A JSON object text with some of `keys` (often the route's own), sometimes with an unknown key. */
const objectJson = (keys: string[]): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 5 }, { arbitrary: text, weight: 1 }), fieldJson), { maxLength: 4 })
    .map((entries) => `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${field}`).join(',')}}`)
const bodyJson = (keys: string[]): fc.Arbitrary<string> => fc.oneof(
  { arbitrary: objectJson(keys), weight: 8 },
  { arbitrary: fieldJson, weight: 1 },
  { arbitrary: fc.constantFrom('', ' ', '{', '{"a":', 'null', '[]', '"x"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'), weight: 1 }
)

// Percent-encoded bytes reach the server as they are: NUL, invalid UTF-8 and encoded surrogates (%ED%A0%80) too.
const percentBytes = fc.uint8Array({ maxLength: 10 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''))
const encoded = (s: string): string => encodeURIComponent(s.toWellFormed())
const queryValue = fc.oneof(numberText.map(encoded), text.map(encoded), percentBytes)
const queryString = (keys: string[]): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 5 }, { arbitrary: text.map(encoded), weight: 1 }), queryValue), { maxLength: 4 })
    .map((pairs) => pairs.length === 0 ? '' : `?${pairs.map(([key, v]) => `${key}=${v}`).join('&')}`)
const pathSegment = fc.oneof({ arbitrary: fc.constant(chatId), weight: 3 }, { arbitrary: text.map(encoded), weight: 1 }, { arbitrary: percentBytes, weight: 1 })

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined)
const caller = fc.oneof(
  { arbitrary: fc.constantFrom(buyer, seller), weight: 6 },
  { arbitrary: fc.constant(stranger), weight: 1 },
  { arbitrary: text.map((id) => registeredUser(id)), weight: 1 },
  // Long incompressible user ids: more than a unique index entry holds.
  { arbitrary: fc.uint8Array({ minLength: 100, maxLength: 3000, size: 'max' }).map((bytes) => registeredUser(Buffer.from(bytes).toString('base64'))), weight: 1 }
)

// --- actions ------------------------------------------------------------------------------------------------------

interface RestAction { kind: 'rest', method: 'GET' | 'POST' | 'DELETE', url: string, user: TestUser | null, body?: string, contentType?: string }
interface FrameAction { kind: 'frame', socket: number, frame: string }
type Action = RestAction | FrameAction

const post = (url: fc.Arbitrary<string>, keys: string[]): fc.Arbitrary<Action> =>
  fc.record({ url, user: caller, body: bodyJson(keys), contentType })
    .map(({ url, user, body, contentType }) => ({ kind: 'rest', method: 'POST', url, user, body, ...(contentType === undefined ? {} : { contentType }) }))
const get = (url: fc.Arbitrary<string>): fc.Arbitrary<Action> =>
  fc.record({ url, user: caller }).map(({ url, user }) => ({ kind: 'rest', method: 'GET', url, user }))

/** A send that is plausible enough to be stored most of the time, so storage is fuzzed too, not only refusals. */
const plausibleSend: fc.Arbitrary<Action> = fc.record({ user: fc.constantFrom(buyer, seller), text, id: fc.option(text, { nil: undefined }) })
  .map(({ user, text, id }) => ({ kind: 'rest', method: 'POST', url: `/api/chat/chats/${chatId}/messages`, user, body: JSON.stringify({ message_text: text, client_message_id: id }), contentType: 'application/json' }))

/** Opening a chat with ids that mostly pass validation, so what a caller's id does to the chat rows is fuzzed too. */
const plausibleOpen: fc.Arbitrary<Action> = fc.record({ user: caller, listing: text, sellerId: fc.oneof(fc.constant(seller.id), text) })
  .map(({ user, listing, sellerId }) => ({ kind: 'rest', method: 'POST', url: '/api/chat/chats', user, body: JSON.stringify({ listing_id: `l${listing}`, seller_id: sellerId }), contentType: 'application/json' }))

const restAction: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: plausibleSend, weight: 4 },
  { arbitrary: plausibleOpen, weight: 1 },
  { arbitrary: post(pathSegment.map((id) => `/api/chat/chats/${id}/messages`), ['message_text', 'client_message_id', 'user_id', 'is_seller']), weight: 6 },
  { arbitrary: post(fc.constant('/api/chat/chats'), ['listing_id', 'seller_id', 'user_id', 'sender_is_registered']), weight: 2 },
  { arbitrary: post(pathSegment.map((id) => `/api/chat/chats/${id}/read`), ['up_to_seq', 'user_id']), weight: 2 },
  { arbitrary: post(fc.constant('/api/chat/anonymous'), ['x']), weight: 1 },
  { arbitrary: get(fc.tuple(pathSegment, queryString(['limit', 'before_seq', 'after_seq', 'offset', 'user_id'])).map(([id, q]) => `/api/chat/chats/${id}/messages${q}`)), weight: 3 },
  { arbitrary: get(queryString(['role', 'is_seller', 'limit', 'offset', 'user_id']).map((q) => `/api/chat/chats/my${q}`)), weight: 2 },
  { arbitrary: get(pathSegment.map((id) => `/api/chat/chats/${id}`)), weight: 1 },
  { arbitrary: get(pathSegment.map((id) => `/api/chat/chats/seller/${id}/grouped`)), weight: 1 },
  { arbitrary: get(fc.constantFrom('/api/chat/unread-count', `/api/chat/chats/seller/${seller.id}/grouped`)), weight: 1 },
  { arbitrary: fc.record({ id: pathSegment.filter((id) => id !== chatId), user: caller }).map(({ id, user }): Action => ({ kind: 'rest', method: 'DELETE', url: `/api/chat/chats/${id}`, user })), weight: 1 }
)

const frameText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.record({ text: fieldJson, id: fieldJson }).map(({ text, id }) => `{"type":"message","message_text":${text},"client_message_id":${id}}`), weight: 5 },
  { arbitrary: fc.record({ text, id: text }).map(({ text, id }) => JSON.stringify({ type: 'message', message_text: text, client_message_id: id })), weight: 4 },
  { arbitrary: fieldJson.map((seq) => `{"type":"read","up_to_seq":${seq}}`), weight: 3 },
  { arbitrary: fieldJson.map((v) => `{"type":"typing","is_typing":${v}}`), weight: 1 },
  { arbitrary: objectJson(['type', 'message_text', 'client_message_id', 'up_to_seq', 'is_typing']), weight: 2 },
  { arbitrary: fc.oneof(fieldJson, text.map((s) => s.toWellFormed())), weight: 1 }
)
const frameAction: fc.Arbitrary<Action> = fc.record({ socket: fc.integer({ min: 0, max: sockets.length - 1 }), frame: frameText })
  .map(({ socket, frame }) => ({ kind: 'frame', socket, frame }))

const action = fc.oneof({ arbitrary: restAction, weight: 3 }, { arbitrary: frameAction, weight: 2 })

// --- running them -------------------------------------------------------------------------------------------------

/** Every message a client was told is stored (ack frame, or 200/201 on a send), by chat and seq. */
const acked = new Map<string, { message_text: string, client_message_id: string | null }>()
function noteAcked (message: { chat_id: string, seq: number, message_text: string, client_message_id: string | null }): void {
  acked.set(`${message.chat_id}/${message.seq}`, { message_text: message.message_text, client_message_id: message.client_message_id })
}

async function run (action: Action): Promise<void> {
  if (action.kind === 'rest') {
    const headers: Record<string, string> = action.user === null ? {} : { ...action.user.headers }
    if (action.contentType !== undefined) headers['content-type'] = action.contentType
    const response = await app.inject({ method: action.method, url: action.url, headers, ...(action.body === undefined ? {} : { payload: action.body }) })
    if (response.statusCode >= 500) throw new Error(`${response.statusCode} ${response.body}`)
    if (action.method === 'POST' && action.url.endsWith('/messages') && response.statusCode < 300) noteAcked(response.json())
  } else {
    const socket = sockets[action.socket] as WsClient
    socket.send(action.frame)
    await socket.barrier()
    const broken = socket.take('error').filter((frame) => frame.code === 'internal_error')
    if (broken.length > 0) throw new Error(`internal_error frame: ${JSON.stringify(broken[0])}`)
    for (const ack of socket.take('ack')) noteAcked(ack.message)
    for (const other of sockets) other.frames.length = 0
  }
  if (logs.errors.length > 0) throw new Error(`error log line: ${JSON.stringify(logs.errors[0]).slice(0, 500)}`)
}

t.test(`${fuzzRuns} hostile requests and frames: no 5xx, no internal_error, no error log line (${backend}, seed ${fuzzSeed})`, async (t) => {
  t.comment(`fast-check seed ${fuzzSeed}, ${fuzzRuns} runs (replay with FUZZ_SEED=${fuzzSeed}; longer with FUZZ_RUNS)`)
  let cases = 0
  await fc.assert(fc.asyncProperty(action, async (a) => {
    await run(a)
    if (++cases % 2000 === 0) {
      const health = await app.inject({ url: '/health' })
      if (health.statusCode !== 200) throw new Error(`/health answered ${health.statusCode}`)
    }
  }), { numRuns: fuzzRuns, seed: fuzzSeed, endOnFailure: true })
  t.equal(logs.errors.length, 0, 'no error-level log line')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, '/health still answers')
  for (const socket of sockets) t.equal(socket.ws.readyState, socket.ws.OPEN, `${socket.label} still open`)
})

t.test('what is stored is storable, clean, and exactly what was acked', async (t) => {
  const rows = await app.db.selectFrom('messages').select(['chat_id', 'seq', 'message_text', 'client_message_id']).execute()
  t.ok(acked.size > fuzzRuns / 20, `the fuzz stored messages too (${acked.size} acked, ${rows.length} stored)`)
  const problems: string[] = []
  for (const row of rows) {
    const where = `${row.chat_id}/${row.seq}`
    if (!isStorableText(row.message_text)) problems.push(`${where}: malformed text ${JSON.stringify(row.message_text)}`)
    if (row.client_message_id !== null && !isStorableText(row.client_message_id)) problems.push(`${where}: malformed client_message_id`)
    if (toPlainText(row.message_text) !== row.message_text) problems.push(`${where}: text not clean ${JSON.stringify(row.message_text)}`)
    const ack = acked.get(where)
    if (ack === undefined) problems.push(`${where}: stored but never acked`)
    else if (ack.message_text !== row.message_text || ack.client_message_id !== row.client_message_id) {
      problems.push(`${where}: acked ${JSON.stringify(ack)} but stored ${JSON.stringify(row)}`)
    }
  }
  t.equal(rows.length, acked.size, 'every acked message is stored, and nothing else')
  t.same(problems.slice(0, 5), [], 'stored rows are well-formed and equal to their acks')
})
