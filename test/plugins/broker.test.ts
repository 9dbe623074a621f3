// Which broker an app runs on, and how it reports Redis: /ready stays 200 with redis up/down, a log line on every change.
import { Writable } from 'node:stream'
import t from 'tap'
import { RedisBroker } from '../../src/realtime/redis-broker.js'
import { buildTestApp, postgresUrl, sameDatabase, testConfig } from '../fixtures/app.js'
import { Recorder, redisEnv, skipWithoutRedis, startRedisServer } from '../fixtures/redis.js'
import { registeredUser } from '../fixtures/users.js'
import type { ChatEvent } from '../../src/realtime/broker.js'

/** Log lines as parsed JSON, with a way to wait for one. */
function logRecorder (): { stream: Writable, lines: Recorder<{ msg: string, redis?: string }> } {
  const lines = new Recorder<{ msg: string, redis?: string }>()
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.handler(JSON.parse(line))
      done()
    }
  })
  return { stream, lines }
}

t.test('without REDIS_URL one instance runs on the in-process broker and /ready says Redis is not in use', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { REDIS_URL: '' }))
  t.notOk(app.broker instanceof RedisBroker)
  t.equal(app.redisStatus(), 'disabled')
  const ready = await app.inject({ url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', database: 'up', redis: 'disabled' })
})

t.test('with Redis', { skip: skipWithoutRedis }, async (t) => {
  t.test('REDIS_URL puts the app on the Redis broker and /ready reports it up', async (t) => {
    const app = await buildTestApp(t, testConfig(t, redisEnv(t)))
    t.ok(app.broker instanceof RedisBroker)
    t.equal(app.redisStatus(), 'up')
    const ready = await app.inject({ url: '/ready' })
    t.equal(ready.statusCode, 200)
    t.same(ready.json(), { status: 'ready', database: 'up', redis: 'up' })
  })

  t.test('Redis stops mid-conversation: messages are still acked and kept, /ready says so; it returns: fan-out resumes by itself', async (t) => {
    const server = await startRedisServer(t)
    const { stream, lines } = logRecorder()
    const config = testConfig(t, { ...redisEnv(t, { url: server.url }), LOG_LEVEL: 'info' })
    const app = await buildTestApp(t, config, { logStream: stream })
    // Another instance on the same Redis deployment, listening the way a socket on it would.
    const other = new RedisBroker({ url: server.url, prefix: config.redisKeyPrefix, log: { info () {}, warn () {}, error () {} } })
    t.teardown(async () => { await other.close() })
    await other.waitUntilUp(5000)

    const buyer = registeredUser('buyer-1')
    const seller = registeredUser('seller-1')
    const chat = (await app.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: '1', seller_id: 'seller-1' } })).json()
    const heardElsewhere = new Recorder<ChatEvent>()
    await other.subscribeChat(chat.id, heardElsewhere.handler)
    const heardHere = new Recorder<ChatEvent>()
    await app.broker.subscribeChat(chat.id, heardHere.handler)
    const send = async (text: string): Promise<{ statusCode: number, seq: number }> => {
      const response = await app.inject({ method: 'POST', url: `/api/chat/chats/${chat.id}/messages`, headers: buyer.headers, payload: { message_text: text, client_message_id: text } })
      return { statusCode: response.statusCode, seq: response.json().seq }
    }

    t.same(await send('before'), { statusCode: 201, seq: 1 })
    t.match(await heardElsewhere.next(), { type: 'message', message: { seq: 1 } })

    const downLine = lines.next((line) => line.redis === 'down')
    await server.stop()
    t.same(await send('during 1'), { statusCode: 201, seq: 2 }, 'acked although Redis just went away')
    t.match(await downLine, { msg: /^redis unreachable/ }, 'a log line says Redis is down')
    t.same(await send('during 2'), { statusCode: 201, seq: 3 })
    t.match(heardHere.events.map((event) => event.type === 'message' ? event.message.seq : null), [1, 2, 3], 'this instance still delivers live')
    const ready = await app.inject({ url: '/ready' })
    t.equal(ready.statusCode, 200, 'still ready: the instance serves without Redis')
    t.same(ready.json(), { status: 'ready', database: 'up', redis: 'down' })
    t.equal(app.redisStatus(), 'down')

    const upLine = lines.next((line) => line.redis === 'up', lines.events.length)
    await server.start()
    await upLine
    await other.waitUntilUp(5000)
    t.same((await app.inject({ url: '/ready' })).json(), { status: 'ready', database: 'up', redis: 'up' })
    t.same(await send('after'), { statusCode: 201, seq: 4 })
    t.match(await heardElsewhere.next((event) => event.type === 'message' && event.message.seq === 4), { message: { message_text: 'after' } }, 'the other instance hears this one again, nobody restarted')

    const history = await app.inject({ url: `/api/chat/chats/${chat.id}/messages`, headers: seller.headers })
    t.same(history.json().messages.map((message: { message_text: string }) => message.message_text), ['before', 'during 1', 'during 2', 'after'], 'nothing acked was lost')
  })

  t.test('two apps on one database and one Redis: a message sent on one reaches listeners on the other', { skip: postgresUrl === null ? 'DATABASE_URL is not set: two apps cannot share an in-memory PGlite database' : false }, async (t) => {
    const env = redisEnv(t)
    const configA = testConfig(t, env)
    const a = await buildTestApp(t, configA)
    const b = await buildTestApp(t, sameDatabase(configA, env))
    const buyer = registeredUser('buyer-1')
    const chat = (await a.inject({ method: 'POST', url: '/api/chat/chats', headers: buyer.headers, payload: { listing_id: '1', seller_id: 'seller-1' } })).json()
    const onA = new Recorder<ChatEvent>()
    await a.broker.subscribeChat(chat.id, onA.handler)
    const sent = await b.inject({ method: 'POST', url: `/api/chat/chats/${chat.id}/messages`, headers: buyer.headers, payload: { message_text: 'hello' } })
    t.equal(sent.statusCode, 201)
    t.match(await onA.next(), { type: 'message', message: { id: sent.json().id, seq: 1 } })
  })
})
