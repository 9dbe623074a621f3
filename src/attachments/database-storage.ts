// Owns storing photo bytes in the service's own database (bytea rows): no extra infrastructure, works on PGlite and across instances.
import { sql } from 'kysely'
import type { Db } from '../chat/chat-repository.js'
import type { AttachmentStorage } from './storage.js'

// Bytes cross the driver as base64 text, decoded and encoded by the database: a bytea parameter or column costs
// PGlite ~0.5 s per 500 KB in its JS (de)serializer against ~0.1 s this way, and node-postgres would send hex (2×).
export class DatabaseStorage implements AttachmentStorage {
  constructor (private readonly db: Db) {}

  async put (key: string, data: Buffer): Promise<void> {
    const encoded = data.toString('base64')
    await sql`insert into attachment_blobs (key, data) values (${key}, decode(${encoded}, 'base64'))
      on conflict (key) do update set data = excluded.data`.execute(this.db)
  }

  async get (key: string): Promise<Buffer | null> {
    const result = await sql<{ data: string }>`select encode(data, 'base64') as data from attachment_blobs where key = ${key}`.execute(this.db)
    const row = result.rows[0]
    return row === undefined ? null : Buffer.from(row.data.replace(/\s/g, ''), 'base64')
  }

  async delete (keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await this.db.deleteFrom('attachment_blobs').where('key', 'in', [...keys]).execute()
  }

  // The database is the app's, closed by the database plugin.
  async close (): Promise<void> {}
}
