// The error shape: every failure is {"error":{code,message,request_id}}, with no internals on 5xx.
import t from 'tap'
import { buildTestApp } from '../fixtures/app.js'
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
