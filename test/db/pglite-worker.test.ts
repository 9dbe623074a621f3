// PGlite on a worker thread (PGLITE_WORKER): answers, transactions and errors as in-thread, and a lost or closed thread fails calls instead of hanging.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { Kysely, PGliteDialect, sql } from 'kysely'
import { v4 as uuidv4 } from 'uuid'
import { isDatabaseUnavailable, openDatabase } from '../../src/db/database.js'
import { PgliteWorkerClient } from '../../src/db/pglite-worker-client.js'
import { preparedAs } from '../../src/db/prepared.js'
import type { Database } from '../../src/db/schema.js'
import { isUniqueViolation, type InsertOutcome, type NewMessage } from '../../src/chat/message-repository.js'
import { SendBatcher } from '../../src/chat/send-batcher.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { tempDir } from '../fixtures/child-server.js'

/** A started worker and a Kysely over it, both closed at teardown. */
async function workerDb (t: Test): Promise<{ client: PgliteWorkerClient, db: Kysely<Database> }> {
  const client = await PgliteWorkerClient.start({ dir: null })
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite: client }) })
  t.teardown(async () => { await db.destroy() })
  return { client, db }
}

const exited = async (client: PgliteWorkerClient): Promise<number> =>
  await new Promise((resolve) => { client.worker.once('exit', resolve) })

t.test('a statement returns the same values through the worker as in-thread', async (t) => {
  const inThread = await openDatabase({ kind: 'pglite', dataDir: null })
  t.teardown(inThread.close)
  const worker = await openDatabase({ kind: 'pglite', dataDir: null, worker: true })
  t.teardown(worker.close)
  t.match(worker.description, /on a worker thread/)
  const query = async (db: Kysely<Database>, marker: ReturnType<typeof preparedAs> | null): Promise<unknown[]> =>
    (await sql`${marker ?? sql``} select ${'2026-01-02T03:04:05.678Z'}::timestamptz as at, ${12345678901}::int8 as big,
      ${1.5}::float8 as ratio, 1.50::numeric as exact, ${['a,b', 'c"d', null]}::text[] as texts, '\\x00ff10'::bytea as bytes,
      ${JSON.stringify({ k: [1, 'two'] })}::jsonb as doc, ${'ünïcode ✓'}::text as text, null::int as nothing,
      ${true}::boolean as flag, n from generate_series(1, ${3}::int) as n`.execute(db)).rows
  const expected = await query(inThread.db, null)
  t.strictSame(await query(worker.db, null), expected, 'Dates, numbers, arrays, bytes and JSON arrive as in-thread')
  t.strictSame(await query(worker.db, preparedAs('worker-types')), expected, 'and the same through a marked statement')
  t.ok((expected[0] as { at: unknown }).at instanceof Date)
  t.ok((expected[0] as { bytes: unknown }).bytes instanceof Uint8Array)
  const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(worker.db)
  t.same(prepared.rows.map((r) => r.name), ['worker-types'], 'marked statements are prepared inside the worker')
  const update = await sql`update pg_catalog.pg_class set relname = relname where false`.execute(worker.db)
  t.equal(update.numAffectedRows, 0n, 'affected rows cross too')
})

t.test('transactions commit, roll back and nest through the worker', async (t) => {
  const { db } = await workerDb(t)
  await sql`create table items (n int primary key)`.execute(db)
  await db.transaction().execute(async (tx) => {
    await sql`insert into items values (1)`.execute(tx)
    await sql`insert into items values (2)`.execute(tx)
  })
  await t.rejects(db.transaction().execute(async (tx) => {
    await sql`insert into items values (3)`.execute(tx)
    throw new Error('changed my mind')
  }), { message: 'changed my mind' }, 'the callback\'s own error comes back')
  await t.rejects(db.transaction().execute(async (tx) => {
    await sql`insert into items values (4)`.execute(tx)
    await sql`insert into items values (1)`.execute(tx)
  }), { code: '23505' }, 'a statement failing in a transaction rolls it back')
  const trx = await db.startTransaction().execute()
  await sql`insert into items values (5)`.execute(trx)
  const inner = await trx.savepoint('inner').execute()
  await sql`insert into items values (6)`.execute(inner)
  await inner.rollbackToSavepoint('inner').execute()
  await trx.commit().execute()
  // While a transaction holds the instance, a statement from outside it waits (as in-thread): it sees only the commit.
  let releaseTx!: () => void
  const held = new Promise<void>((resolve) => { releaseTx = resolve })
  let began!: () => void
  const inside = new Promise<void>((resolve) => { began = resolve })
  const inTx = db.transaction().execute(async (tx) => {
    await sql`insert into items values (7)`.execute(tx)
    began()
    await held
  })
  await inside
  const outside = sql<{ n: number }>`select count(*)::int as n from items where n = 7`.execute(db)
  releaseTx()
  await inTx
  t.equal((await outside).rows[0]?.n, 1, 'the outside statement ran after the commit')
  const { rows } = await sql<{ n: number }>`select n from items order by n`.execute(db)
  t.same(rows.map((r) => r.n), [1, 2, 5, 7], 'only committed rows remain, without the one rolled back to a savepoint')
})

t.test('errors keep their SQLSTATE, constraint and message', async (t) => {
  const { db } = await workerDb(t)
  const error = await sql`select 1 / ${0}::int`.execute(db).catch((e: unknown) => e) as Record<string, unknown>
  t.equal(error.code, '22012')
  t.match(error.message, /division by zero/)
  t.ok(error instanceof Error)
  t.notOk(isDatabaseUnavailable(error), 'a bad statement is not an outage')
  await sql`create table uniq (k text constraint uniq_k unique)`.execute(db)
  await sql`insert into uniq values ('a')`.execute(db)
  const violation = await sql`insert into uniq values ('a')`.execute(db).catch((e: unknown) => e)
  t.ok(isUniqueViolation(violation, 'uniq_k'), 'unique violation with its constraint name')
  await t.rejects(sql`select 1 / ${0}::int`.execute(db.withSchema('public')), { code: '22012' })
  t.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1, 'the instance still answers')
})

t.test('a unique violation in a batch of sends fails only its own send', async (t) => {
  const config = testConfig(t)
  config.database = { kind: 'pglite', dataDir: null, worker: true }
  const app = await buildTestApp(t, config)
  const chatId = uuidv4()
  await app.db.insertInto('chats').values({ id: chatId, listing_id: 'l-1', seller_id: 's1', buyer_id: 'b1', buyer_is_registered: true }).execute()
  const message = (text: string, id = uuidv4()): NewMessage =>
    ({ id, chatId, senderId: 'b1', senderIsRegistered: true, text, preview: text, clientMessageId: null })
  const batcher = new SendBatcher(app.db, { maxBatch: 500, maxInFlight: 1, waitingPerExtraBatch: 16 })
  const first = await batcher.submit(message('first'))
  const taken = first.kind === 'stored' ? first.message.id : ''
  const sends: Array<Promise<InsertOutcome>> = []
  for (let k = 0; k < 10; k++) sends.push(batcher.submit(k === 4 ? message('reuses an id', taken) : message(`m${k}`)))
  const results = await Promise.allSettled(sends)
  t.same(results.map((r) => r.status === 'rejected' ? 'rejected' : r.value.kind), [
    'stored', 'stored', 'stored', 'stored', 'rejected', 'stored', 'stored', 'stored', 'stored', 'stored'
  ])
  t.match((results[4] as PromiseRejectedResult).reason, { code: '23505' })
  const texts = await app.db.selectFrom('messages').select(['seq', 'message_text']).where('chat_id', '=', chatId).orderBy('seq').execute()
  t.same(texts.map((r) => r.message_text), ['first', 'm0', 'm1', 'm2', 'm3', 'm5', 'm6', 'm7', 'm8', 'm9'])
  t.same(texts.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'no seq lost')
})

t.test('close ends the thread, flushes a data directory and later calls fail', async (t) => {
  const dataDir = await tempDir(t, 'pglite-worker')
  const first = await openDatabase({ kind: 'pglite', dataDir, worker: true })
  await sql`create table kept (v text)`.execute(first.db)
  await sql`insert into kept values ('before close')`.execute(first.db)
  await first.close()
  const second = await openDatabase({ kind: 'pglite', dataDir, worker: true })
  t.teardown(second.close)
  t.same((await sql<{ v: string }>`select v from kept`.execute(second.db)).rows, [{ v: 'before close' }], 'written data survives')

  const client = await PgliteWorkerClient.start({ dir: null })
  const exit = exited(client)
  await client.close()
  t.type(await exit, 'number', 'the thread exited')
  t.ok(client.closed)
  await t.rejects(client.query('select 1'), { message: 'PGlite is closed' })
})

t.test('a killed worker fails the calls waiting on it, and every later one, at once', async (t) => {
  const { client, db } = await workerDb(t)
  t.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1)
  // Both are posted to the thread by the time query() returns its promise.
  const slow = client.query('select pg_sleep(5)')
  const queued = client.query('select 1')
  await client.worker.terminate()
  await t.rejects(slow, { message: /embedded database worker exited with code 1/ })
  await t.rejects(queued, { message: /embedded database worker exited with code 1/ })
  await t.rejects(sql`select 1`.execute(db), { message: /embedded database worker exited/ }, 'no call waits for a thread that is gone')
  t.ok(client.closed)
})

t.test('a database that cannot open fails the start with the error PGlite gives in-thread', async (t) => {
  const dir = await tempDir(t, 'pglite-worker-bad')
  await mkdir(join(dir, 'pglite'))
  await writeFile(join(dir, 'pglite', 'PG_VERSION'), 'not a version\n')
  const inThread: unknown = await openDatabase({ kind: 'pglite', dataDir: dir }).then(async (handle) => { await handle.close() }, (e: unknown) => e)
  t.type(inThread, Error, 'the in-thread open fails')
  await t.rejects(openDatabase({ kind: 'pglite', dataDir: dir, worker: true }), { message: (inThread as Error).message })
})
