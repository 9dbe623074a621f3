// The Redis broker: events cross instances once, subscriptions follow local handlers, and a Redis outage never blocks.
import t from 'tap'
import type { ChatEvent, PresenceEvent, UserEvent } from '../../src/realtime/broker.js'
import { RedisBroker } from '../../src/realtime/redis-broker.js'
import { inspector, Recorder, redisUrl, skipWithoutRedis, startRedisServer, testBroker, uniquePrefix } from '../fixtures/redis.js'

const typing = (userId: string, isTyping = true): ChatEvent => ({ type: 'typing', user_id: userId, user_key: `u:${userId}`, is_typing: isTyping })
const read = (seq: number): ChatEvent => ({ type: 'read', user_id: 'seller-1', last_read_seq: seq })

async function numsub (redis: ReturnType<typeof inspector>, channel: string): Promise<number> {
  const reply = await redis.pubsub('NUMSUB', channel) as [string, number]
  return Number(reply[1])
}

t.test('redis broker', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string

  t.test('chat, user and presence events reach handlers on another instance, and the publisher hears itself once', async (t) => {
    const prefix = uniquePrefix(t, url)
    const a = testBroker(t, url, prefix)
    const b = testBroker(t, url, prefix)
    t.equal(await a.waitUntilUp(5000), 'up')
    t.equal(await b.waitUntilUp(5000), 'up')

    const chatOnA = new Recorder<ChatEvent>()
    const chatOnB = new Recorder<ChatEvent>()
    await a.subscribeChat('chat-1', chatOnA.handler)
    await b.subscribeChat('chat-1', chatOnB.handler)

    await a.publishChat('chat-1', typing('buyer-1'))
    t.same(chatOnA.events, [typing('buyer-1')], 'local handlers get it before publish resolves')
    t.same(await chatOnB.next(), typing('buyer-1'))
    // B answers only after hearing A; Redis sends A its own echo before B's answer, so by the time A has the
    // answer an echo would have shown up too.
    await b.publishChat('chat-1', read(1))
    await chatOnA.next((event) => event.type === 'read')
    t.same(chatOnA.events, [typing('buyer-1'), read(1)], 'A got its own event once and B\'s once')
    t.same(chatOnB.events, [typing('buyer-1'), read(1)])

    const userOnB = new Recorder<UserEvent>()
    await b.subscribeUser('u:seller-1', userOnB.handler)
    const update = { type: 'chat_updated', chat: { id: 'chat-1' } } as unknown as UserEvent
    await a.publishUser('u:seller-1', update)
    t.same(await userOnB.next(), update)

    const presenceOnB = new Recorder<PresenceEvent>()
    await b.subscribePresence('a:buyer-2', presenceOnB.handler)
    await a.publishPresence({ user_key: 'a:buyer-2', user_id: 'buyer-2', online: true })
    t.same(await presenceOnB.next(), { user_key: 'a:buyer-2', user_id: 'buyer-2', online: true })
  })

  t.test('a channel is subscribed in Redis only while a local handler needs it', async (t) => {
    const prefix = uniquePrefix(t, url)
    const a = testBroker(t, url, prefix)
    const b = testBroker(t, url, prefix)
    await a.waitUntilUp(5000)
    await b.waitUntilUp(5000)
    const redis = inspector(t, url)
    const channel = `${prefix}chat:chat-9`

    t.equal(await numsub(redis, channel), 0)
    const first = new Recorder<ChatEvent>()
    const second = new Recorder<ChatEvent>()
    const offFirst = await a.subscribeChat('chat-9', first.handler)
    const offSecond = await a.subscribeChat('chat-9', second.handler)
    t.equal(await numsub(redis, channel), 1, 'two local handlers share one Redis subscription')

    await offFirst()
    await offFirst()
    t.equal(await numsub(redis, channel), 1, 'still subscribed while a handler is left')
    await b.publishChat('chat-9', read(2))
    t.same(await second.next(), read(2))
    t.same(first.events, [], 'a removed handler hears nothing')

    await offSecond()
    t.equal(await numsub(redis, channel), 0, 'unsubscribed when the last handler left')

    const again = new Recorder<ChatEvent>()
    await a.subscribeChat('chat-9', again.handler)
    t.equal(await numsub(redis, channel), 1, 'subscribed again for a new handler')
    await b.publishChat('chat-9', read(3))
    t.same(await again.next(), read(3))
  })

  t.test('channel names carry the prefix, so deployments sharing a Redis do not hear each other', async (t) => {
    const mine = testBroker(t, url, uniquePrefix(t, url))
    const theirs = testBroker(t, url, uniquePrefix(t, url))
    await mine.waitUntilUp(5000)
    await theirs.waitUntilUp(5000)
    const heardByMine = new Recorder<ChatEvent>()
    const heardByTheirs = new Recorder<ChatEvent>()
    await mine.subscribeChat('chat-1', heardByMine.handler)
    await theirs.subscribeChat('chat-1', heardByTheirs.handler)
    // A second instance of "theirs" publishes; mine must not get it, theirs must.
    const theirOther = testBroker(t, url, theirs.prefix)
    await theirOther.waitUntilUp(5000)
    await theirOther.publishChat('chat-1', read(7))
    t.same(await heardByTheirs.next(), read(7))
    // And mine still works on its own channel, which proves the earlier event was not merely late.
    const mineOther = testBroker(t, url, mine.prefix)
    await mineOther.waitUntilUp(5000)
    await mineOther.publishChat('chat-1', read(8))
    t.same(await heardByMine.next(), read(8))
    t.same(heardByMine.events, [read(8)])
  })

  t.test('Redis down: publishing returns at once and delivers locally; back up: delivery across instances resumes', async (t) => {
    const server = await startRedisServer(t)
    const logged: string[] = []
    const log = { info (_: object, msg: string) { logged.push(msg) }, warn (_: object, msg: string) { logged.push(msg) }, error () {} }
    const a = new RedisBroker({ url: server.url, prefix: 'chat:v1:', log })
    t.teardown(async () => { await a.close() })
    const b = testBroker(t, server.url, 'chat:v1:')
    await a.waitUntilUp(5000)
    await b.waitUntilUp(5000)
    const onA = new Recorder<ChatEvent>()
    const onB = new Recorder<ChatEvent>()
    await a.subscribeChat('chat-1', onA.handler)
    await b.subscribeChat('chat-1', onB.handler)

    const statusOf = (broker: RedisBroker, wanted: 'up' | 'down'): Promise<void> => new Promise((resolve) => {
      const off = broker.onStatusChange((status) => { if (status === wanted) { off(); resolve() } })
    })
    const aDown = statusOf(a, 'down')
    await server.stop()
    // Publishing must neither fail nor wait, whether or not A has noticed yet.
    await a.publishChat('chat-1', read(1))
    t.same(onA.events, [read(1)], 'delivered locally although Redis is gone')
    await aDown
    t.equal(a.status(), 'down')
    t.equal(await a.ping(), 'down')
    await a.publishChat('chat-1', read(1))
    t.same(onA.events, [read(1), read(1)], 'delivered locally once A knows Redis is gone')
    t.ok(logged.some((line) => line.startsWith('redis unreachable')), 'a log line says Redis is down')

    const lateHandler = new Recorder<ChatEvent>()
    await a.subscribeChat('chat-2', lateHandler.handler)
    t.pass('subscribing while Redis is down does not hang')

    const backUp = [statusOf(a, 'up'), statusOf(b, 'up')]
    await server.start()
    await Promise.all(backUp)
    t.equal(await a.ping(), 'up')
    t.ok(logged.some((line) => line.startsWith('redis reachable')), 'a log line says Redis is back')

    // The restarted server knows no subscriptions: 'up' means both instances have resubscribed on their own.
    const redis = inspector(t, server.url)
    t.equal(await numsub(redis, 'chat:v1:chat:chat-1'), 2)
    t.equal(await numsub(redis, 'chat:v1:chat:chat-2'), 1)
    await b.publishChat('chat-1', read(2))
    t.same(await onA.next((event) => event.type === 'read' && event.last_read_seq === 2), read(2))
    await b.publishChat('chat-2', read(3))
    t.same(await lateHandler.next(), read(3), 'a channel first subscribed during the outage works once Redis is back')
    await a.publishChat('chat-1', read(4))
    t.same(await onB.next((event) => event.type === 'read' && event.last_read_seq === 4), read(4))
  })
})
