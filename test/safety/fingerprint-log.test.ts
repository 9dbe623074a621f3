// The same-text limit's log: checks that arrive in one event-loop turn share one read, and each still gets its own answer.
import t from 'tap'
import { v4 as uuidv4 } from 'uuid'
import type { Identity } from '../../src/auth/identity.js'
import { FingerprintLog } from '../../src/safety/fingerprint-log.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'

const app = await buildTestApp(t, testConfig(t))

t.test('checks from frames handled in one event-loop turn share one read, each answered for its own sender and text', async (t) => {
  const failed: unknown[] = []
  const writer = new FingerprintLog({ db: app.db, onFlushError: (error) => failed.push(error) })
  const senders: Identity[] = Array.from({ length: 20 }, (_, i) => ({ userId: `fp-sender-${i}`, registered: i % 2 === 0 }))
  const chats = [uuidv4(), uuidv4(), uuidv4()]
  // sender i sent text "a" into i % 4 of the chats (0 to 3 others), and text "b" into all of them
  senders.forEach((sender, i) => {
    for (const chat of chats.slice(0, i % 4)) writer.record(sender, 'a', chat)
    for (const chat of chats) writer.record(sender, 'b', chat)
  })
  await writer.close()
  t.same(failed, [])

  let reads = 0
  const counted = app.db.withPlugin({
    transformQuery: (args) => { reads++; return args.node },
    transformResult: async (args) => args.result
  })
  const log = new FingerprintLog({ db: counted, onFlushError: (error) => failed.push(error) })
  t.teardown(async () => { await log.close() })
  // Each in a callback of its own, as frames from different sockets are: on PGlite a read started by the first would
  // otherwise finish before the second is handled.
  const answers = await Promise.all(senders.map(async (sender) => await new Promise<[number, number]>((resolve, reject) => {
    setImmediate(() => {
      Promise.all([log.otherChats(sender, 'a', uuidv4()), log.otherChats(sender, 'b', chats[0] as string)])
        .then(([a, b]) => { resolve([a, b]) }, reject)
    })
  })))
  t.equal(reads, 1, 'forty checks, one statement')
  t.same(answers, senders.map((_, i) => [i % 4, chats.length - 1]), 'every sender learns its own count for each text')
  t.same(failed, [])
})
