// Log redaction: no bearer token, cookie or ?token= value ever reaches a log line.
import { PassThrough } from 'node:stream'
import t from 'tap'
import { buildTestApp, testConfig } from './fixtures/app.js'
import { registeredUser } from './fixtures/users.js'

t.test('authorization headers and token query parameters are redacted', async (t) => {
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  const config = { ...testConfig(t), logLevel: 'trace' as const }
  const app = await buildTestApp(t, config, { logStream: stream })
  const user = registeredUser('u-logged')

  await app.inject({ url: '/api/chat/unread-count', headers: user.headers })
  await app.inject({ url: `/api/chat/ws/inbox?token=${user.token}&x=1`, headers: { cookie: 'session=secret-cookie' } })
  await app.inject({ url: `/api/chat/unread-count?access_token=${user.token}` })

  const log = lines.join('\n')
  t.ok(lines.length > 0, 'requests were logged')
  t.notOk(log.includes(user.token), 'the token appears nowhere in the logs')
  t.notOk(log.includes('secret-cookie'), 'cookies are not logged')
  t.match(log, /token=\[REDACTED\]&x=1/, 'the URL is kept, minus the token')
  t.ok(lines.every((line) => JSON.parse(line).reqId !== undefined || !line.includes('"req"')), 'request lines carry the request id')
})
