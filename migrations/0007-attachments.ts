// Creates photo attachments: one row per upload (who, which chat, which message uses it) and the stored bytes of the database storage.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('attachments')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('chat_id', 'uuid', (col) => col.notNull())
    // identityKey of the uploader: only they may put it into a message.
    .addColumn('uploader_key', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text', (col) => col.notNull())
    .addColumn('size', 'integer', (col) => col.notNull())
    .addColumn('width', 'integer', (col) => col.notNull())
    .addColumn('height', 'integer', (col) => col.notNull())
    .addColumn('thumb_size', 'integer', (col) => col.notNull())
    .addColumn('etag', 'text', (col) => col.notNull())
    .addColumn('thumb_etag', 'text', (col) => col.notNull())
    // Set when a send claims it (before the message is stored), so an attachment is used once.
    .addColumn('message_id', 'uuid')
    .addColumn('position', 'integer')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  // History pages load a page's attachments by message id.
  await db.schema.createIndex('attachments_message_idx').on('attachments').columns(['message_id', 'position']).execute()
  // The sweep looks for old uploads no message uses.
  await db.schema.createIndex('attachments_unused_idx').on('attachments').column('created_at')
    .where(sql.ref('message_id'), 'is', null).execute()
  // The database storage (ATTACHMENT_STORAGE=database): one row per stored object, keyed like S3 objects.
  await db.schema.createTable('attachment_blobs')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('data', 'bytea', (col) => col.notNull())
    .execute()
}

export async function down (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('attachment_blobs').execute()
  await db.schema.dropTable('attachments').execute()
}
