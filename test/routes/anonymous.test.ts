// Anonymous buyer sessions: what POST /api/chat/anonymous hands out, and its per-IP rate limit.
import t from 'tap'
import { validate as isUuid, version as uuidVersion } from 'uuid'
import { buildTestApp, testConfig } from '../fixtures/app.js'

const LIMIT = 3
const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: String(LIMIT) }))
const mint = async (remoteAddress: string) => await app.inject({ method: 'POST', url: '/api/chat/anonymous', remoteAddress })

t.test('each call mints a new buyer with a token that works', async (t) => {
  const first = await mint('10.0.0.1')
  t.equal(first.statusCode, 201)
  const session = first.json()
  t.same(Object.keys(session).sort(), ['buyer_id', 'token'])
  t.ok(isUuid(session.buyer_id) && uuidVersion(session.buyer_id) === 4, 'buyer_id is a uuid v4')

  const mine = await app.inject({ url: '/api/chat/chats/my', headers: { authorization: `Bearer ${session.token}` } })
  t.equal(mine.statusCode, 200)
  t.same(mine.json(), { chats: [], total: 0 })
  const opened = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: { authorization: `Bearer ${session.token}` }, payload: { listing_id: '1', seller_id: 's' } })
  t.match(opened.json(), { buyer_id: session.buyer_id, buyer_is_registered: false })

  const second = (await mint('10.0.0.1')).json()
  t.not(second.buyer_id, session.buyer_id)
  t.not(second.token, session.token)

  // A body cannot choose the id.
  const chosen = await app.inject({ method: 'POST', url: '/api/chat/anonymous', remoteAddress: '10.0.0.9', payload: { buyer_id: session.buyer_id } })
  t.equal(chosen.statusCode, 201)
  t.not(chosen.json().buyer_id, session.buyer_id)
})

t.test('the endpoint is rate-limited per IP', async (t) => {
  const ip = '10.0.0.2'
  for (let i = 0; i < LIMIT; i++) t.equal((await mint(ip)).statusCode, 201)
  const limited = await mint(ip)
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error.code, 'rate_limited')
  t.match(limited.headers['retry-after'], /^\d+$/, 'says when to retry')
  t.equal((await mint('10.0.0.3')).statusCode, 201, 'another address is not affected')
})
