// Seeds the inbox scenario's data set straight into the service's tables with set-based SQL (generate_series).
import type { Db } from './db.js'

export interface SeedShape {
  chats: number
  messages: number
  /** chats owned by the one hot seller the scenario reads as */
  sellerChats: number
  listings: number
}

export const HOT_SELLER = 'bench-seller-hot'

/** Messages per hot chat: enough for a full history page (50) when the data set allows. */
export function hotMessagesPerChat (s: SeedShape): number {
  return Math.max(1, Math.min(100, Math.floor(s.messages / s.sellerChats / 2)))
}

/**
 * Chat k (0-based): k < sellerChats belongs to the hot seller on listing k % listings, the rest spread over other
 * sellers. Even k have anonymous buyers (uuid ids, numbered labels), odd k registered ones. Every chat's messages
 * alternate buyer/seller; chats.last_seq and the preview columns match the message rows, as the service keeps them.
 * A quarter of the hot chats have unread messages for the seller.
 */
export async function seedInbox (db: Db, s: SeedShape): Promise<{ chats: number, messages: number }> {
  const hot = hotMessagesPerChat(s)
  const others = Math.max(0, s.chats - s.sellerChats)
  const rest = Math.max(0, s.messages - s.sellerChats * hot)
  const base = others > 0 ? Math.floor(rest / others) : 0
  const extra = others > 0 ? rest % others : 0
  const otherSellers = Math.max(1, Math.floor(others / 5))
  // one statement per call: the in-process (Kysely) connection runs single statements only
  const statements = [`
    INSERT INTO chats (id, listing_id, seller_id, buyer_id, buyer_is_registered, buyer_label, last_seq,
                       seller_last_read_seq, buyer_last_read_seq, last_message_text, last_message_sender_id,
                       last_message_at, last_activity_at, created_at, updated_at)
    SELECT id, listing_id, seller_id, buyer_id, registered, label, n,
           greatest(n - (k % 4), 0), n,
           CASE WHEN n > 0 THEN 'seeded message ' || n END,
           CASE WHEN n = 0 THEN NULL WHEN n % 2 = 1 THEN buyer_id ELSE seller_id END,
           CASE WHEN n > 0 THEN created + n * interval '1 minute' END,
           created + n * interval '1 minute', created, created + n * interval '1 minute'
    FROM (
      SELECT k,
             gen_random_uuid() AS id,
             CASE WHEN k < ${s.sellerChats} THEN 'hot-listing-' || (k % ${s.listings}) ELSE 'listing-' || k END AS listing_id,
             CASE WHEN k < ${s.sellerChats} THEN '${HOT_SELLER}' ELSE 'bench-seller-' || (k % ${otherSellers}) END AS seller_id,
             CASE WHEN k % 2 = 0 THEN gen_random_uuid()::text ELSE 'bench-buyer-' || k END AS buyer_id,
             k % 2 = 1 AS registered,
             CASE WHEN k % 2 = 1 THEN NULL WHEN k < ${s.sellerChats} THEN k / 2 + 1 ELSE k / ${otherSellers} + 1 END AS label,
             CASE WHEN k < ${s.sellerChats} THEN ${hot}
                  WHEN k - ${s.sellerChats} < ${extra} THEN ${base + 1} ELSE ${base} END AS n,
             now() - interval '40 days' + k * interval '20 seconds' AS created
      FROM generate_series(0, ${s.chats - 1}) AS k
    ) c`, `
    INSERT INTO seller_buyer_labels (seller_id, buyer_id, label)
      SELECT seller_id, buyer_id, buyer_label FROM chats WHERE buyer_label IS NOT NULL
      ON CONFLICT DO NOTHING`, `
    INSERT INTO messages (chat_id, seq, id, sender_id, sender_is_registered, message_text, client_message_id, created_at)
      SELECT c.id, g.seq, gen_random_uuid(),
             CASE WHEN g.seq % 2 = 1 THEN c.buyer_id ELSE c.seller_id END,
             CASE WHEN g.seq % 2 = 1 THEN c.buyer_is_registered ELSE true END,
             CASE WHEN g.seq = c.last_seq THEN 'seeded message ' || g.seq
                  ELSE 'seeded message ' || g.seq || ': is this still available? could you ship it by friday' END,
             NULL, c.created_at + g.seq * interval '1 minute'
      FROM chats c CROSS JOIN LATERAL generate_series(1, c.last_seq) AS g(seq)`,
  'ANALYZE']
  for (const statement of statements) await db.query(statement)
  const [row] = await db.query<{ chats: number, messages: number }>(
    'SELECT (SELECT count(*) FROM chats)::int AS chats, (SELECT count(*) FROM messages)::int AS messages')
  return row ?? { chats: 0, messages: 0 }
}
