// End-of-run comparison of what the client was acked against what the database holds.
import type { Db } from './db.js'
import type { Recording } from './load-client.js'

export interface StorageCheck {
  /** acked to the sender but no row with that client_message_id and seq: must be 0 */
  ackedNotStored: number
  /** more than one row for one client_message_id: must be 0 */
  storedTwice: number
  /** rows that exist although the sender never got an ack (allowed: commit happened, ack was in flight) */
  storedNotAcked: number
}

/** One query over every chat of the run, then split per recording by client_message_id prefix. */
export async function checkStorage (db: Db, chatIds: string[], recordings: Recording[]): Promise<StorageCheck[]> {
  const rows = await db.query<{ c: string, seq: number, n: number }>(
    `SELECT client_message_id AS c, min(seq)::int AS seq, count(*)::int AS n
       FROM messages WHERE chat_id = ANY($1::uuid[]) AND client_message_id IS NOT NULL
      GROUP BY client_message_id`, [chatIds])
  const stored = new Map<string, { seq: number, n: number }>()
  for (const r of rows) stored.set(r.c, { seq: r.seq, n: r.n })
  return recordings.map(rec => {
    let ackedNotStored = 0
    let storedTwice = 0
    let storedNotAcked = 0
    for (let i = 0; i < rec.total; i++) {
      const row = stored.get(rec.prefix + String(i))
      const ackSeq = rec.ackSeq[i] as number
      if (ackSeq !== 0 && (row === undefined || row.seq !== ackSeq)) ackedNotStored++
      if (row !== undefined && row.n > 1) storedTwice++
      if (row !== undefined && ackSeq === 0) storedNotAcked++
    }
    return { ackedNotStored, storedTwice, storedNotAcked }
  })
}
