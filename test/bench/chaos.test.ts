// The short chaos run: every fault scenario against two real instances ends with nothing lost, doubled or undelivered, and both instances up.
import { join } from 'node:path'
import t from 'tap'
import { chaos, CHAOS_SCENARIOS } from '../../bench/scenarios/chaos.js'
import { postgresUrl } from '../fixtures/app.js'
import { compileCopy } from '../fixtures/child-server.js'
import { redisUrl } from '../fixtures/redis.js'

const skip = postgresUrl === null || redisUrl === null
  ? 'needs DATABASE_URL and REDIS_URL: the chaos run puts two instances on real PostgreSQL and Redis'
  : false

// About 2.5 minutes (thirteen instance boots, five 8 s timelines); generous bounds for a shared, busy machine.
t.setTimeout(600_000)

t.test('chaos, short version', { skip, timeout: 540_000 }, async (t) => {
  // Compiled once: a child booted through the TypeScript loader takes several seconds, and this run boots thirteen.
  const build = await compileCopy(t)
  // Outages of a few seconds: long enough for every timeout and reconnect path to run, short enough for CI.
  const result = await chaos({
    databaseUrl: postgresUrl as string,
    redisUrl: redisUrl as string,
    chats: 20,
    rate: 100,
    beforeMs: 2000,
    faultMs: 3000,
    afterMs: 3000,
    // Only used when needed: a drain ends as soon as everything is acked and delivered; boots are slow on a busy box.
    drainMs: 60_000,
    serviceEntry: join(build, 'dist', 'src', 'server.js'),
    write: false
  })
  t.same(result.results.map((r) => r.scenario), CHAOS_SCENARIOS, 'every scenario ran')
  for (const r of result.results) {
    t.ok(r.sent > 0 && r.acked === r.sent, `${r.scenario}: all ${r.sent} messages acked in the end (${r.unacked} not)`)
    t.equal(r.ackedLost, 0, `${r.scenario}: nothing acked was lost`)
    t.equal(r.storedTwice, 0, `${r.scenario}: nothing stored twice`)
    t.equal(r.seqGaps, 0, `${r.scenario}: no hole in any chat's seqs`)
    t.equal(r.deliveredTwice, 0, `${r.scenario}: nothing delivered twice on one connection`)
    t.equal(r.undelivered, 0, `${r.scenario}: every stored message reached both participants`)
    t.notOk(r.survived.includes('NO'), `${r.scenario}: instances survived (${r.survived.join(', ')})`)
    for (const line of r.ready) t.match(line, /200@[\d.-]+s$/, `${r.scenario}: ready again at the end (${line})`)
  }
  t.comment(result.table)
})
