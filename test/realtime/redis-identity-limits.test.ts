// Socket counts in Redis: every live instance's sockets count toward one person's bound; a dead instance's stop counting.
import t from 'tap'
import { RedisIdentityLimits } from '../../src/realtime/redis-identity-limits.js'
import { inspector, redisUrl, silentLog, skipWithoutRedis, testBroker, uniquePrefix } from '../fixtures/redis.js'

t.test('socket slots across instances', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string
  const prefix = uniquePrefix(t, url)
  const options = { rate: 1, burst: 1, maxSockets: 2, ttlMs: 60_000, heartbeatMs: 30_000, log: silentLog }
  const brokerA = testBroker(t, url, prefix)
  const brokerB = testBroker(t, url, prefix)
  t.equal(await brokerA.waitUntilUp(5000), 'up')
  t.equal(await brokerB.waitUntilUp(5000), 'up')
  const a = new RedisIdentityLimits(brokerA, options)
  const b = new RedisIdentityLimits(brokerB, options)
  t.teardown(async () => { await a.close(); await b.close() })

  const first = await b.acquireSocket('a:someone')
  const second = await b.acquireSocket('a:someone')
  t.ok(first !== null && second !== null, 'two slots on B')
  t.equal(await a.acquireSocket('a:someone'), null, 'A sees B\'s two sockets: no third')
  t.not(await a.acquireSocket('u:someone'), null, 'a registered user with the same id is someone else')

  await second?.release()
  await second?.release()
  const onA = await a.acquireSocket('a:someone')
  t.not(onA, null, 'a released slot is free on the other instance (released twice, counted once)')
  t.equal(await b.acquireSocket('a:someone'), null)

  // B dies without releasing: its alive key expires (deleted here rather than waited for).
  await inspector(t, url).del(`${prefix}limits:alive:${brokerB.instanceId}`)
  t.not(await a.acquireSocket('a:someone'), null, 'a dead instance\'s sockets no longer count')
})

t.test('message budget shared by two instances', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string
  const prefix = uniquePrefix(t, url)
  const options = { rate: 1, burst: 3, maxSockets: 2, ttlMs: 60_000, heartbeatMs: 30_000, log: silentLog }
  const brokers = [testBroker(t, url, prefix), testBroker(t, url, prefix)]
  for (const broker of brokers) t.equal(await broker.waitUntilUp(5000), 'up')
  const [a, b] = brokers.map((broker) => new RedisIdentityLimits(broker, options)) as [RedisIdentityLimits, RedisIdentityLimits]
  t.teardown(async () => { await a.close(); await b.close() })
  const started = performance.now()
  const taken = (await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? a : b).take('message', 'a:x')))).filter(Boolean).length
  const seconds = (performance.now() - started) / 1000
  t.ok(taken >= 3 && taken <= 3 + Math.ceil(seconds) + 1, `${taken} of 10 taken in ${seconds.toFixed(2)} s`)
  t.equal(await a.take('read', 'a:x'), true, 'reads have a budget of their own')
})
