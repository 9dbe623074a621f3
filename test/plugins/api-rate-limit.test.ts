// Rate limits as a client meets them: 429 with Retry-After and the JSON error body, per address or per user as promised.
import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp, listenTestApp, testConfig } from '../fixtures/app.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'
import { refusal } from '../fixtures/ws-client.js'

function assertLimited (t: Test, response: LightMyRequestResponse): void {
  t.equal(response.statusCode, 429)
  t.match(response.headers['retry-after'], /^\d+$/)
  t.ok(Number(response.headers['retry-after']) > 0 && Number(response.headers['retry-after']) <= 60, 'retry within the minute')
  t.match(response.json(), { error: { code: 'rate_limited', message: String, request_id: response.headers['x-request-id'] } })
}

t.test('the API-wide budget per address answers 429 on /api/* only', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_API_PER_MINUTE: '3' }))
  const seller = registeredUser('seller-1')
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/api/chat/unread-count', headers: seller.headers })).statusCode, 200)
  assertLimited(t, await app.inject({ url: '/api/chat/unread-count', headers: seller.headers }))
  assertLimited(t, await app.inject({ url: '/api/chat/chats/my', headers: registeredUser('someone-else').headers }))
  t.equal((await app.inject({ url: '/api/chat/unread-count', headers: seller.headers, remoteAddress: '10.0.0.9' })).statusCode, 200, 'another address has its own budget')
  t.equal((await app.inject('/health')).statusCode, 200, 'probes are never limited')
  t.equal((await app.inject('/ready')).statusCode, 200)
})

t.test('WebSocket upgrades count against the same budget and are refused before upgrading', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { RATE_LIMIT_API_PER_MINUTE: '1' }))
  const seller = registeredUser('seller-1')
  t.equal((await app.inject({ url: '/api/chat/unread-count', headers: seller.headers, remoteAddress: '127.0.0.1' })).statusCode, 200)
  const refused = await refusal(`${wsUrl}/api/chat/ws/inbox?token=${seller.token}`)
  t.equal(refused.status, 429)
  t.equal(refused.body?.error?.code, 'rate_limited')
})

t.test('per-route limits still apply under the API-wide budget', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2', RATE_LIMIT_API_PER_MINUTE: '1000' }))
  for (let i = 0; i < 2; i++) t.equal((await app.inject({ method: 'POST', url: '/api/chat/anonymous' })).statusCode, 201)
  assertLimited(t, await app.inject({ method: 'POST', url: '/api/chat/anonymous' }))
  assertLimited(t, await app.inject({ method: 'POST', url: '/%61pi/chat/%61nonymous' }))
  t.equal((await app.inject({ method: 'POST', url: '/api/chat/anonymous', remoteAddress: '10.0.0.9' })).statusCode, 201, 'per address')
})

t.test('sends are limited per user, not per address', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_SEND_PER_MINUTE: '2' }))
  const first = await anonymousBuyer(app)
  const second = await anonymousBuyer(app)
  const chatOf = async (headers: { authorization: string }): Promise<string> =>
    (await app.inject({ method: 'POST', url: '/api/chat/chats', headers, payload: { listing_id: 1, seller_id: 'seller-1' } })).json().id
  const firstChat = await chatOf(first.headers)
  const secondChat = await chatOf(second.headers)
  const send = async (chatId: string, headers: { authorization: string }): Promise<LightMyRequestResponse> =>
    await app.inject({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, headers, payload: { message_text: 'hello' } })

  t.equal((await send(firstChat, first.headers)).statusCode, 201)
  t.equal((await send(firstChat, first.headers)).statusCode, 201)
  assertLimited(t, await send(firstChat, first.headers))
  t.equal((await send(secondChat, second.headers)).statusCode, 201, 'another user from the same address may still send')
  const history = await app.inject({ url: `/api/chat/chats/${firstChat}/messages`, headers: first.headers })
  t.equal(history.json().messages.length, 2, 'the refused message was not stored')
})

t.test('the budget counts the route that is served, however its path is spelled', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_API_PER_MINUTE: '4' }))
  const seller = registeredUser('seller-encoded')
  const spellings = ['/%61pi/chat/unread-count', '/ap%69/chat/unread-count', '/api/%63hat/unread-count', '/%61%70%69/chat/unread-count']
  for (const url of spellings) t.equal((await app.inject({ url, headers: seller.headers })).statusCode, 200, `${url} is served`)
  assertLimited(t, await app.inject({ url: '/%61pi/chat/unread-count', headers: seller.headers }))
  assertLimited(t, await app.inject({ url: '/api/chat/unread-count', headers: seller.headers }))
})

t.test('404s under /api count too, however spelled', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_API_PER_MINUTE: '3' }))
  for (const url of ['/api/no-such-thing', '/%61pi/no-such-thing', '/API/no-such-thing']) {
    t.equal((await app.inject({ url })).statusCode, 404, url)
  }
  assertLimited(t, await app.inject({ url: '/%61pi/no-such-thing' }))
  t.equal((await app.inject({ url: '/no-such-thing' })).statusCode, 404, 'outside /api nothing is limited')
  t.equal((await app.inject('/health')).statusCode, 200)
})

t.test('WebSocket upgrades on a percent-encoded path count and are refused before upgrading', async (t) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, { RATE_LIMIT_API_PER_MINUTE: '1' }))
  const seller = registeredUser('seller-ws-encoded')
  t.equal((await app.inject({ url: '/api/chat/unread-count', headers: seller.headers, remoteAddress: '127.0.0.1' })).statusCode, 200)
  const refused = await refusal(`${wsUrl}/ap%69/chat/ws/inbox?token=${seller.token}`)
  t.equal(refused.status, 429)
  t.equal(refused.body?.error?.code, 'rate_limited')
})
