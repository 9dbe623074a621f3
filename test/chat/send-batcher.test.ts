// Group commit: a burst of sends is stored by few statements, in order per chat, with every outcome reported to its own sender.
import t from 'tap'
import { sql } from 'kysely'
import { v4 as uuidv4 } from 'uuid'
import type { Db } from '../../src/chat/chat-repository.js'
import type { InsertOutcome, NewMessage } from '../../src/chat/message-repository.js'
import { SendBatcher } from '../../src/chat/send-batcher.js'
import { backend, buildTestApp, testConfig } from '../fixtures/app.js'

const app = await buildTestApp(t, testConfig(t))
const db = app.db

async function newChat (sellerId: string, buyerId: string, buyerIsRegistered = true): Promise<string> {
  const id = uuidv4()
  await db.insertInto('chats').values({ id, listing_id: `l-${id}`, seller_id: sellerId, buyer_id: buyerId, buyer_is_registered: buyerIsRegistered }).execute()
  return id
}

function message (chatId: string, senderId: string, text: string, options: { registered?: boolean, clientMessageId?: string } = {}): NewMessage {
  return { id: uuidv4(), chatId, senderId, senderIsRegistered: options.registered ?? true, text, preview: text, clientMessageId: options.clientMessageId ?? null }
}

/** A db that counts the statements run through it. */
function counting (): { db: Db, count: () => number } {
  let statements = 0
  const counted = db.withPlugin({
    transformQuery: (args) => { statements++; return args.node },
    transformResult: async (args) => args.result
  })
  return { db: counted, count: () => statements }
}

async function storedTexts (chatId: string): Promise<Array<{ seq: number, message_text: string }>> {
  return await db.selectFrom('messages').select(['seq', 'message_text']).where('chat_id', '=', chatId).orderBy('seq').execute()
}

const seqOf = (outcome: InsertOutcome): number | string => outcome.kind === 'stored' ? outcome.message.seq : outcome.kind

t.test('a burst of sends to several chats is one statement, and each chat keeps the order they were sent in', async (t) => {
  const { db: countedDb, count } = counting()
  const batcher = new SendBatcher(countedDb, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatIds = [await newChat('s1', 'b1'), await newChat('s1', 'b2'), await newChat('s2', 'b1')]
  const sends: Array<Promise<InsertOutcome>> = []
  for (let k = 0; k < 20; k++) {
    for (const [c, chatId] of chatIds.entries()) sends.push(batcher.submit(message(chatId, c === 2 ? 'b1' : 's1', `chat ${c} message ${k}`)))
  }
  const outcomes = await Promise.all(sends)

  t.equal(count(), 1, 'sixty messages, one statement')
  t.same(outcomes.map(seqOf), Array.from({ length: 60 }, (_, i) => Math.floor(i / 3) + 1), 'each send learns its own seq')
  for (const [c, chatId] of chatIds.entries()) {
    t.same(await storedTexts(chatId), Array.from({ length: 20 }, (_, k) => ({ seq: k + 1, message_text: `chat ${c} message ${k}` })), `chat ${c}: seqs 1..20 in send order`)
  }
})

t.test('read pointers and the preview follow each side\'s newest message in the batch', async (t) => {
  const batcher = new SendBatcher(db, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatId = await newChat('s3', 'b3')
  const outcomes = await Promise.all([
    batcher.submit(message(chatId, 'b3', 'is it still for sale?')),
    batcher.submit(message(chatId, 's3', 'yes')),
    batcher.submit(message(chatId, 'b3', 'great, I will take it'))
  ])
  t.same(outcomes.map(seqOf), [1, 2, 3])
  const chat = await db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirstOrThrow()
  t.match(chat, { last_seq: 3, buyer_last_read_seq: 3, seller_last_read_seq: 2, last_message_text: 'great, I will take it', last_message_sender_id: 'b3' })
  const last = outcomes[2]
  t.ok(last?.kind === 'stored' && last.chat.last_seq === 3 && last.chat.seller_last_read_seq === 2, 'the stored outcome carries the chat as updated')
})

t.test('a stranger\'s message in a batch is refused alone and takes no seq', async (t) => {
  const batcher = new SendBatcher(db, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatId = await newChat('s4', 'b4', false)
  const outcomes = await Promise.all([
    batcher.submit(message(chatId, 'b4', 'first', { registered: false })),
    batcher.submit(message(chatId, 'stranger', 'let me in')),
    // the anonymous buyer's id presented as a registered user, and the seller's id presented as anonymous
    batcher.submit(message(chatId, 'b4', 'spoofed', { registered: true })),
    batcher.submit(message(chatId, 's4', 'spoofed', { registered: false })),
    batcher.submit(message(uuidv4(), 's4', 'no such chat')),
    batcher.submit(message(chatId, 's4', 'second'))
  ])
  t.same(outcomes.map(seqOf), [1, 'not-found', 'not-found', 'not-found', 'not-found', 2])
  t.same(await storedTexts(chatId), [{ seq: 1, message_text: 'first' }, { seq: 2, message_text: 'second' }])
})

t.test('a client_message_id used again is a duplicate, whether stored earlier or repeated in the same burst', async (t) => {
  const batcher = new SendBatcher(db, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatId = await newChat('s5', 'b5')
  t.same(seqOf(await batcher.submit(message(chatId, 'b5', 'hello', { clientMessageId: 'x' }))), 1)
  const outcomes = await Promise.all([
    batcher.submit(message(chatId, 'b5', 'hello', { clientMessageId: 'x' })),
    batcher.submit(message(chatId, 'b5', 'new one', { clientMessageId: 'y' })),
    batcher.submit(message(chatId, 'b5', 'new one', { clientMessageId: 'y' })),
    // the same client id from the other participant is a different message
    batcher.submit(message(chatId, 's5', 'reply', { clientMessageId: 'y' }))
  ])
  t.same(outcomes.map(seqOf), ['duplicate', 2, 'duplicate', 3])
  t.same(await storedTexts(chatId), [
    { seq: 1, message_text: 'hello' }, { seq: 2, message_text: 'new one' }, { seq: 3, message_text: 'reply' }
  ])
})

t.test(`a statement the database refuses for one message fails only that message; the others store in order (${backend})`, async (t) => {
  const { db: countedDb, count } = counting()
  const batcher = new SendBatcher(countedDb, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatIds = [await newChat('s6', 'b6'), await newChat('s6', 'b66'), await newChat('s66', 'b6')]
  // Bypassing validation, as a message that slipped past it would: PostgreSQL refuses U+0000 in text, and a
  // malformed uuid; either fails the whole statement.
  const culprits = [
    message(chatIds[1] as string, 's6', 'bad client id', { clientMessageId: 'nul\u0000' }),
    { ...message(chatIds[2] as string, 'b6', 'bad id'), id: 'not-a-uuid' }
  ]
  const sends: Array<Promise<InsertOutcome>> = []
  for (let k = 0; k < 20; k++) {
    for (const [c, chatId] of chatIds.entries()) sends.push(batcher.submit(message(chatId, c === 2 ? 'b6' : 's6', `chat ${c} message ${k}`)))
    if (k === 5) sends.push(batcher.submit(culprits[0] as NewMessage))
    if (k === 13) sends.push(batcher.submit(culprits[1] as NewMessage))
  }
  const results = await Promise.allSettled(sends)
  const rejected = results.flatMap((r, i) => r.status === 'rejected' ? [i] : [])
  t.same(rejected, [18, 43], 'only the two culprits fail')
  for (const [c, chatId] of chatIds.entries()) {
    t.same(await storedTexts(chatId), Array.from({ length: 20 }, (_, k) => ({ seq: k + 1, message_text: `chat ${c} message ${k}` })), `chat ${c}: every other message, seqs 1..20 in send order`)
  }
  t.ok(count() < 62 / 2, `isolated by halves, not one statement per message (${count()} statements)`)
  t.same(seqOf(await batcher.submit(message(chatIds[0] as string, 's6', 'after'))), 21, 'the next send stores, with no seq lost')
  if (backend === 'pglite') {
    // PGlite's one connection: the catalogue shows that the failed statements were the prepared one, still usable.
    const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(db)
    t.same(rows.map((r) => r.name), ['insert-messages'], 'sent as the prepared statement, which outlives its failures')
  }
})

t.test('a statement that fails for a reason unrelated to its messages fails its batch once, without retries', async (t) => {
  let statements = 0
  const failing = db.withPlugin({
    transformQuery: () => {
      statements++
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
    },
    transformResult: async (args) => args.result
  })
  const batcher = new SendBatcher(failing, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const chatId = await newChat('s9', 'b9')
  const results = await Promise.allSettled(Array.from({ length: 10 }, async (_, k) => await batcher.submit(message(chatId, 'b9', `m${k}`))))
  t.same(results.map((r) => r.status), Array(10).fill('rejected'))
  t.equal(statements, 1, 'splitting would only multiply the load on a failing database')
})

t.test(`two instances sending to the same chats at once store every message once, with gapless seqs (${backend})`, async (t) => {
  const options = { maxBatch: 50, maxInFlight: 2, waitingPerExtraBatch: 4 }
  const instances = [new SendBatcher(db, options), new SendBatcher(db, options)]
  const chatIds = [await newChat('s7', 'b7'), await newChat('s7', 'b8'), await newChat('s8', 'b7')]
  const sends: Array<Promise<InsertOutcome>> = []
  for (let k = 0; k < 150; k++) {
    for (const [i, batcher] of instances.entries()) {
      // opposite chat orders on the two instances; every fifth message is a retry both instances carry
      const retry = k % 5 === 0
      const chatId = chatIds[retry ? 0 : (i === 0 ? k : 3000 - k) % chatIds.length] as string
      const sender = chatId === chatIds[2] ? 'b7' : 's7'
      sends.push(batcher.submit(message(chatId, sender, retry ? `retry ${k}` : `${i}-${k}`, { clientMessageId: retry ? `retry-${k}` : undefined })))
    }
  }
  const outcomes = await Promise.all(sends)
  const stored = outcomes.filter((o) => o.kind === 'stored').length
  const duplicates = outcomes.filter((o) => o.kind === 'duplicate').length
  t.equal(duplicates, 30, 'each retry id is stored by one instance and found as a duplicate by the other')
  t.equal(stored, 300 - 30)
  let total = 0
  for (const chatId of chatIds) {
    const rows = await storedTexts(chatId)
    total += rows.length
    t.same(rows.map((r) => r.seq), Array.from({ length: rows.length }, (_, i) => i + 1), 'seqs 1..N with no gap')
  }
  t.equal(total, stored, 'every stored outcome is a row')
})
