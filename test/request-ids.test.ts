// One request id ties a request's log lines, its X-Request-Id header and its error body together.
import { Writable } from 'node:stream'
import t from 'tap'
import { buildTestApp, testConfig } from './fixtures/app.js'

interface LogLine { reqId?: string, msg: string, [key: string]: unknown }

function logCapture (): { stream: Writable, lines: LogLine[] } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as LogLine)
      done()
    }
  })
  return { stream, lines }
}

t.test('a caller-supplied id is used everywhere: every log line, the header and the error body', async (t) => {
  const { stream, lines } = logCapture()
  const app = await buildTestApp(t, testConfig(t, { LOG_LEVEL: 'info' }), { logStream: stream })
  const response = await app.inject({ url: '/api/chat/unread-count', headers: { 'x-request-id': 'lb-trace.42' } })
  t.equal(response.statusCode, 401)
  t.equal(response.headers['x-request-id'], 'lb-trace.42')
  t.same(response.json(), { error: { code: 'unauthorized', message: 'Send Authorization: Bearer <token>', request_id: 'lb-trace.42' } })

  const mine = lines.filter((line) => line.reqId === 'lb-trace.42')
  t.same(mine.map((line) => line.msg), ['incoming request', 'Send Authorization: Bearer <token>', 'request completed'])
  const requestLines = lines.filter((line) => line.req !== undefined || line.res !== undefined)
  t.ok(requestLines.every((line) => line.reqId === 'lb-trace.42'), 'no request line without the id')
})

t.test('a malformed incoming id is replaced, never echoed', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ url: '/no/such/route', headers: { 'x-request-id': 'bad id\twith "quotes"' } })
  t.equal(response.statusCode, 404)
  const id = String(response.headers['x-request-id'])
  t.match(id, /^[0-9a-f-]{36}$/)
  t.equal(response.json().error.request_id, id)
  t.equal(response.json().error.code, 'not_found')
})

t.test('successful responses carry a fresh id too', async (t) => {
  const app = await buildTestApp(t)
  const first = await app.inject('/health')
  const second = await app.inject('/health')
  t.match(first.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  t.not(first.headers['x-request-id'], second.headers['x-request-id'])
})
