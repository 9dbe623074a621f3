// Shared presence: online while any instance holds a connection, offline exactly once, and by itself when an instance dies.
import t from 'tap'
import type { PresenceEvent } from '../../src/realtime/broker.js'
import type { RedisBroker } from '../../src/realtime/redis-broker.js'
import { RedisPresence } from '../../src/realtime/redis-presence.js'
import { inspector, presenceHolderProcess, Recorder, redisUrl, silentLog, skipWithoutRedis, startRedisServer, testBroker, uniquePrefix } from '../fixtures/redis.js'

const TTL_MS = 400
const HEARTBEAT_MS = 80

function testPresence (t: { teardown: (fn: () => unknown) => void }, broker: RedisBroker): RedisPresence {
  const presence = new RedisPresence(broker, { ttlMs: TTL_MS, heartbeatMs: HEARTBEAT_MS, log: silentLog })
  t.teardown(async () => { await presence.close() })
  return presence
}

const event = (key: string, online: boolean): PresenceEvent => ({ user_key: key, user_id: key.slice(2), online })

t.test('redis presence', { skip: skipWithoutRedis }, async (t) => {
  const url = redisUrl as string

  t.test('someone connected to two instances stays online until both connections close', async (t) => {
    const prefix = uniquePrefix(t, url)
    const brokerA = testBroker(t, url, prefix)
    const brokerB = testBroker(t, url, prefix)
    await brokerA.waitUntilUp(5000)
    await brokerB.waitUntilUp(5000)
    const a = testPresence(t, brokerA)
    const b = testPresence(t, brokerB)
    const seenOnA = new Recorder<PresenceEvent>()
    const seenOnB = new Recorder<PresenceEvent>()
    await brokerA.subscribePresence('a:buyer-1', seenOnA.handler)
    await brokerB.subscribePresence('a:buyer-1', seenOnB.handler)

    t.same(await a.onlineAmong(['a:buyer-1', 'u:seller-1']), new Set())
    await a.connect('a:buyer-1', 'buyer-1')
    await b.connect('a:buyer-1', 'buyer-1')
    await b.connect('a:buyer-1', 'buyer-1')
    t.same(await seenOnB.next(), event('a:buyer-1', true), 'B hears that the buyer came online on A')
    t.same(await b.onlineAmong(['a:buyer-1', 'u:seller-1']), new Set(['a:buyer-1']))

    await a.disconnect('a:buyer-1', 'buyer-1')
    await b.disconnect('a:buyer-1', 'buyer-1')
    t.same(await a.onlineAmong(['a:buyer-1']), new Set(['a:buyer-1']), 'still online for A: B holds a connection')
    await b.disconnect('a:buyer-1', 'buyer-1')
    t.same(await seenOnA.next((e) => !e.online), event('a:buyer-1', false))
    t.same(await a.onlineAmong(['a:buyer-1']), new Set(), 'offline once the last connection anywhere closed')
    // Every change is published by the script that decided it, so events arrive in decision order: had a
    // disconnect announced offline too early, it would sit before this one.
    t.same(seenOnA.events, [event('a:buyer-1', true), event('a:buyer-1', false)], 'one online, one offline, nothing in between')
    t.same(seenOnB.events, seenOnA.events)
  })

  t.test('an instance that dies without saying goodbye: its people go offline for everyone else, the others stay', async (t) => {
    const prefix = uniquePrefix(t, url)
    const brokerA = testBroker(t, url, prefix)
    await brokerA.waitUntilUp(5000)
    const a = testPresence(t, brokerA)
    const seen = new Recorder<PresenceEvent>()
    for (const key of ['u:seller-1', 'a:buyer-1', 'a:buyer-2']) await brokerA.subscribePresence(key, seen.handler)

    await a.connect('a:buyer-2', 'buyer-2')
    // B runs in its own process and is killed with SIGKILL: no disconnects, no QUIT, its heartbeats just stop.
    const b = await presenceHolderProcess(t, {
      url, prefix, ttlMs: TTL_MS, heartbeatMs: HEARTBEAT_MS,
      users: [{ key: 'u:seller-1', id: 'seller-1' }, { key: 'a:buyer-2', id: 'buyer-2' }]
    })
    await seen.next((e) => e.user_key === 'u:seller-1' && e.online)
    t.same(await a.onlineAmong(['u:seller-1', 'a:buyer-1', 'a:buyer-2']), new Set(['u:seller-1', 'a:buyer-2']))

    // Stay online through several TTLs while B's heartbeats run: watch B refresh its entry past the first TTL.
    const monitor = await inspector(t, url).monitor()
    t.teardown(() => { monitor.disconnect() })
    const holders = `${prefix}presence:holders:u:seller-1`
    let firstBeat: number | null = null
    await new Promise<void>((resolve) => {
      monitor.on('monitor', (time: string, args: string[]) => {
        if (!['eval', 'evalsha'].includes(String(args[0]).toLowerCase()) || !args.includes(holders)) return
        const at = Number(time) * 1000
        firstBeat ??= at
        if (at - firstBeat > 2 * TTL_MS) resolve()
      })
    })
    monitor.disconnect()
    t.same(await a.onlineAmong(['u:seller-1']), new Set(['u:seller-1']), 'online while B keeps beating, long past one TTL')
    t.same(seen.events.filter((e) => !e.online), [], 'nobody went offline while B was alive')

    await b.kill()
    t.same(await seen.next((e) => !e.online), event('u:seller-1', false), 'A announces B\'s user offline by itself')
    t.same(await a.onlineAmong(['u:seller-1', 'a:buyer-2']), new Set(['a:buyer-2']), 'A\'s own user is still online')
    // B's user went offline once; the buyer A still holds never did.
    await a.disconnect('a:buyer-2', 'buyer-2')
    await seen.next((e) => e.user_key === 'a:buyer-2' && !e.online)
    t.same(seen.events.filter((e) => !e.online), [event('u:seller-1', false), event('a:buyer-2', false)])
  })

  t.test('several instances sweeping at once announce a dead instance\'s user offline exactly once', async (t) => {
    const prefix = uniquePrefix(t, url)
    const brokers = [testBroker(t, url, prefix), testBroker(t, url, prefix), testBroker(t, url, prefix)]
    for (const broker of brokers) await broker.waitUntilUp(5000)
    const presences = brokers.map((broker) => testPresence(t, broker))
    const seen = new Recorder<PresenceEvent>()
    await brokers[0]?.subscribePresence('u:seller-7', seen.handler)
    await brokers[0]?.subscribePresence('u:seller-8', seen.handler)
    const dead = await presenceHolderProcess(t, { url, prefix, ttlMs: TTL_MS, heartbeatMs: HEARTBEAT_MS, users: [{ key: 'u:seller-7', id: 'seller-7' }] })
    await seen.next((e) => e.online)
    await dead.kill()
    await seen.next((e) => !e.online)
    // A later, unrelated change on the same subscription: a duplicate offline would have arrived before it.
    await presences[1]?.connect('u:seller-8', 'seller-8')
    await seen.next((e) => e.user_key === 'u:seller-8')
    t.same(seen.events, [event('u:seller-7', true), event('u:seller-7', false), event('u:seller-8', true)])
  })

  t.test('after a Redis restart that lost everything, instances put their people back and changes made meanwhile reach everyone', async (t) => {
    const server = await startRedisServer(t)
    const brokerA = testBroker(t, server.url, 'chat:v1:')
    const brokerB = testBroker(t, server.url, 'chat:v1:')
    await brokerA.waitUntilUp(5000)
    await brokerB.waitUntilUp(5000)
    const a = testPresence(t, brokerA)
    const b = testPresence(t, brokerB)
    const seenOnA = new Recorder<PresenceEvent>()
    await brokerA.subscribePresence('u:seller-1', seenOnA.handler)
    await brokerA.subscribePresence('a:buyer-1', seenOnA.handler)
    await b.connect('u:seller-1', 'seller-1')
    await b.connect('a:buyer-1', 'buyer-1')
    await seenOnA.next((e) => e.user_key === 'a:buyer-1')

    const down = new Promise<void>((resolve) => { const off = brokerB.onStatusChange((s) => { if (s === 'down') { off(); resolve() } }) })
    await server.stop()
    await down
    // The buyer leaves B while Redis is away; the seller stays.
    await b.disconnect('a:buyer-1', 'buyer-1')
    t.same(await b.onlineAmong(['u:seller-1', 'a:buyer-1']), new Set(['u:seller-1']), 'B answers from what it holds')
    const count = seenOnA.events.length
    await server.start()
    t.same(await seenOnA.next((e) => e.user_key === 'a:buyer-1' && !e.online, count), event('a:buyer-1', false), 'the goodbye B owed reaches A')
    await seenOnA.next((e) => e.user_key === 'u:seller-1' && e.online, count)
    t.same(await a.onlineAmong(['u:seller-1', 'a:buyer-1']), new Set(['u:seller-1']), 'the seller B still holds is online again in Redis')
  })
})
