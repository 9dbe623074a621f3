// The same-text window across instances: one count in Redis, checks of one turn in one call, and this instance's own count while Redis is down.
import t from 'tap'
import { RedisTextWindow } from '../../src/safety/redis-text-window.js'
import { redisUrl, silentLog, skipWithoutRedis, startRedisServer, testBroker, uniquePrefix } from '../fixtures/redis.js'

t.test('two instances share one count', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string
  const prefix = uniquePrefix(t, url)
  const brokers = [testBroker(t, url, prefix), testBroker(t, url, prefix)]
  for (const broker of brokers) t.equal(await broker.waitUntilUp(5000), 'up')
  const [a, b] = brokers.map((broker) => {
    const window = new RedisTextWindow(broker, { log: silentLog })
    t.teardown(async () => { await window.close() })
    return window
  }) as [RedisTextWindow, RedisTextWindow]
  t.equal(await a.claim('a:spammer', 'fp', 'c1', 2), 0)
  t.equal(await b.claim('a:spammer', 'fp', 'c2', 2), 1, 'B counts A\'s send')
  t.equal(await a.claim('a:spammer', 'fp', 'c3', 2), 2, 'A counts B\'s')
  t.equal(await b.claim('a:spammer', 'fp', 'c3', 2), 2, 'the held chat was not counted in')
  t.equal(await b.claim('a:spammer', 'fp', 'c1', 2), 1, 'a chat it already went to is not another chat')
  await b.add('a:spammer', 'fp', 'c3')
  t.equal(await a.claim('a:spammer', 'fp', 'c4', 2), 3, 'a send added past the limit counts everywhere')

  // Checks made in one turn go in one call, in order: the second sees the first.
  const together = await Promise.all(['d1', 'd2', 'd3'].map(async (chat) => await a.claim('a:burst', 'fp', chat, 2)))
  t.same(together, [0, 1, 2])
})

t.test('while Redis is unreachable, an instance counts its own sends and no send fails', { skip: skipWithoutRedis }, async (t) => {
  const server = await startRedisServer(t)
  const broker = testBroker(t, server.url, 'outage:')
  t.equal(await broker.waitUntilUp(5000), 'up')
  const window = new RedisTextWindow(broker, { log: silentLog })
  t.teardown(async () => { await window.close() })
  t.equal(await window.claim('a:s', 'fp', 'c1', 2), 0)
  await server.stop()
  t.equal(await window.claim('a:s', 'fp', 'c2', 2), 1, 'counted on this instance, with the send made before the outage')
  t.equal(await window.claim('a:s', 'fp', 'c3', 2), 2, 'and still held')
})
