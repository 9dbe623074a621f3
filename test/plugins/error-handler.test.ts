// The error shape: every failure is {"error":{code,message,request_id}}, with no internals on 5xx.
import t from 'tap'
import type { InjectOptions } from 'fastify'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { registeredUser } from '../fixtures/users.js'

t.test('errors share one JSON shape with a stable code and the request id', async (t) => {
  const app = await buildTestApp(t)
  const user = registeredUser('u1')

  const unknown = await app.inject({ url: '/no/such/route' })
  t.equal(unknown.statusCode, 404)
  t.same(Object.keys(unknown.json().error).sort(), ['code', 'message', 'request_id'])
  t.equal(unknown.json().error.code, 'not_found')
  t.equal(unknown.json().error.request_id, unknown.headers['x-request-id'])

  const badJson = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: { ...user.headers, 'content-type': 'application/json' }, payload: '{"listing_id":' })
  t.equal(badJson.statusCode, 400)
  t.equal(badJson.json().error.code, 'bad_request')

  const invalid = await app.inject({ method: 'POST', url: '/api/chat/chats', headers: user.headers, payload: { listing_id: 'x' } })
  t.equal(invalid.statusCode, 400)
  t.equal(invalid.json().error.code, 'validation_failed')
  t.match(invalid.json().error.message, /seller_id/)

  const traced = await app.inject({ url: '/nowhere', headers: { 'x-request-id': 'lb-trace-123' } })
  t.equal(traced.json().error.request_id, 'lb-trace-123', "a load balancer's request id is kept")
})

t.test('a 5xx says nothing about the cause', async (t) => {
  const app = await buildTestApp(t)
  const user = registeredUser('u1')
  await app.database.close()
  const response = await app.inject({ url: '/api/chat/unread-count', headers: user.headers })
  t.equal(response.statusCode, 500)
  t.same(Object.keys(response.json()), ['error'])
  t.equal(response.json().error.code, 'internal_error')
  t.equal(response.json().error.message, 'Internal server error')
  t.notMatch(response.body, /stack|at |Error:|kysely|pglite|pg/i)
})

t.test("Fastify's own refusals use the same shape and carry the request id", async (t) => {
  const app = await buildTestApp(t, testConfig(t, { BODY_LIMIT_BYTES: '1024' }))
  const user = registeredUser('u1')
  const json = { ...user.headers, 'content-type': 'application/json' }
  const cases: Array<[string, InjectOptions, number, string]> = [
    ['malformed percent-encoding', { url: '/api/chat/chats/%E0%A4%A', headers: user.headers }, 400, 'bad_request'],
    ['malformed percent-encoding outside /api', { url: '/static/%E0%A4%A' }, 400, 'bad_request'],
    ['an over-long path parameter', { url: `/api/chat/chats/${'x'.repeat(200)}`, headers: user.headers }, 414, 'uri_too_long'],
    ['an unsupported content type', { method: 'POST', url: '/api/chat/chats', headers: { ...user.headers, 'content-type': 'text/xml' }, payload: '<a/>' }, 415, 'unsupported_media_type'],
    ['a body over the limit', { method: 'POST', url: '/api/chat/chats', headers: json, payload: JSON.stringify({ x: 'y'.repeat(5000) }) }, 413, 'payload_too_large'],
    ['invalid JSON', { method: 'POST', url: '/api/chat/chats', headers: json, payload: '{' }, 400, 'bad_request'],
    ['an unknown method', { method: 'PUT', url: '/health' }, 404, 'not_found']
  ]
  for (const [what, options, status, code] of cases) {
    const response = await app.inject(options)
    t.equal(response.statusCode, status, what)
    const requestId = response.headers['x-request-id']
    t.ok(typeof requestId === 'string' && requestId !== '', `${what}: x-request-id header`)
    t.same(response.json(), { error: { code, message: response.json().error?.message, request_id: requestId } }, `${what}: error shape`)
    t.type(response.json().error?.message, 'string')
  }
  const traced = await app.inject({ url: '/api/chat/chats/%E0%A4%A', headers: { 'x-request-id': 'lb-trace-456' } })
  t.equal(traced.json().error.request_id, 'lb-trace-456', "a bad URL keeps the load balancer's request id too")
})
