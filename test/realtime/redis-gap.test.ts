// Broker gaps: an instance whose Redis connection was cut catches its own sockets up and, if its publishes were lost, tells the others to.
import t from 'tap'
import { FaultProxy } from '../../bench/lib/fault-proxy.js'
import type { ChatEvent } from '../../src/realtime/broker.js'
import type { RedisBroker, RedisStatus } from '../../src/realtime/redis-broker.js'
import { Recorder, redisUrl, skipWithoutRedis, testBroker, uniquePrefix } from '../fixtures/redis.js'

const typing = (userId: string): ChatEvent => ({ type: 'typing', user_id: userId, user_key: `u:${userId}`, is_typing: true })

async function becomes (broker: RedisBroker, wanted: RedisStatus): Promise<void> {
  if (broker.status() === wanted) return
  await new Promise<void>((resolve) => {
    const off = broker.onStatusChange((status) => { if (status === wanted) { off(); resolve() } })
  })
}

t.test('redis gaps', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string
  const target = new URL(url)

  t.test('only one instance loses Redis and publishes meanwhile: both sides catch up when it is back', async (t) => {
    const proxy = await FaultProxy.start({ host: target.hostname, port: Number(target.port || 6379) })
    const prefix = uniquePrefix(t, url)
    const a = testBroker(t, proxy.urlFor(url), prefix)
    const b = testBroker(t, url, prefix)
    t.teardown(async () => { await proxy.close() })
    t.equal(await a.waitUntilUp(5000), 'up')
    t.equal(await b.waitUntilUp(5000), 'up')
    const gapsOnA = new Recorder<string>()
    const gapsOnB = new Recorder<string>()
    a.onGap(() => { gapsOnA.handler('gap') })
    b.onGap(() => { gapsOnB.handler('gap') })
    const chatOnB = new Recorder<ChatEvent>()
    await b.subscribeChat('chat-1', chatOnB.handler)

    proxy.refuse()
    proxy.cut()
    await becomes(a, 'down')
    t.equal(b.status(), 'up', 'B never noticed anything')
    await a.publishChat('chat-1', typing('lost'))
    proxy.heal()
    await becomes(a, 'up')
    await gapsOnA.next()
    await gapsOnB.next()
    t.same([gapsOnA.events.length, gapsOnB.events.length], [1, 1], 'each instance is told once')
    t.same(chatOnB.events, [], 'the event itself never reached B: that is what the catch-up is for')
  })

  t.test('an instance that starts (a deploy) does not make the others catch up', async (t) => {
    const prefix = uniquePrefix(t, url)
    const b = testBroker(t, url, prefix)
    t.equal(await b.waitUntilUp(5000), 'up')
    const gapsOnB = new Recorder<string>()
    b.onGap(() => { gapsOnB.handler('gap') })
    const chatOnB = new Recorder<ChatEvent>()
    await b.subscribeChat('chat-1', chatOnB.handler)

    const c = testBroker(t, url, prefix)
    t.equal(await c.waitUntilUp(5000), 'up')
    // A resync from C would have been published on the same connection before this event, so it would be here by now.
    await c.publishChat('chat-1', typing('hello'))
    await chatOnB.next()
    t.same(gapsOnB.events, [], 'B was not asked to catch up')
  })
})
