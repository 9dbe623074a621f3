// The send queue is bounded: while the database holds a batch up, sends beyond the bound fail at once with a retryable error.
import t from 'tap'
import { v4 as uuidv4 } from 'uuid'
import type { NewMessage } from '../../src/chat/message-repository.js'
import { SendBatcher } from '../../src/chat/send-batcher.js'
import { AppError } from '../../src/errors.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'

const app = await buildTestApp(t, testConfig(t))

t.test('a stalled database cannot grow the queue past maxQueued', async (t) => {
  const chatId = uuidv4()
  await app.db.insertInto('chats').values({ id: chatId, listing_id: 'l-bound', seller_id: 's-bound', buyer_id: 'b-bound', buyer_is_registered: true }).execute()
  // Every statement waits at this gate, as it would on a hung database.
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  let started: () => void = () => {}
  const firstStatement = new Promise<void>((resolve) => { started = resolve })
  const stalled = app.db.withPlugin({
    transformQuery: (args) => { started(); return args.node },
    transformResult: async (args) => { await gate; return args.result }
  })
  const batcher = new SendBatcher(stalled, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16, maxQueued: 3 })
  const message = (text: string): NewMessage => ({ id: uuidv4(), chatId, senderId: 'b-bound', senderIsRegistered: true, text, preview: text, clientMessageId: text })

  const inFlight = batcher.submit(message('in flight'))
  await firstStatement
  const queued = ['q1', 'q2', 'q3'].map(async (text) => await batcher.submit(message(text)))
  const refused = await batcher.submit(message('one too many')).then(() => null, (error: unknown) => error)
  t.ok(refused instanceof AppError, 'the send over the bound is refused')
  t.equal((refused as AppError).code, 'service_unavailable', 'as retryable, before touching the database')

  open()
  const outcomes = await Promise.all([inFlight, ...queued])
  t.same(outcomes.map((outcome) => outcome.kind === 'stored' ? outcome.message.seq : outcome.kind), [1, 2, 3, 4], 'the queued sends are stored once the database answers')
  const retried = await batcher.submit(message('one too many'))
  t.equal(retried.kind === 'stored' ? retried.message.seq : retried.kind, 5, 'and the refused one goes through when resent')
})
