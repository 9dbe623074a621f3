// Owns the TypeScript view of the tables the migrations create; Kysely checks every query against it.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface ChatsTable {
  id: string
  listing_id: string
  seller_id: string
  buyer_id: string
  buyer_is_registered: boolean
  buyer_label: number | null
  last_seq: Generated<number>
  seller_last_read_seq: Generated<number>
  buyer_last_read_seq: Generated<number>
  seller_hidden: Generated<boolean>
  buyer_hidden: Generated<boolean>
  blocked_by_seller: Generated<boolean>
  blocked_by_buyer: Generated<boolean>
  last_message_text: string | null
  last_message_sender_id: string | null
  last_message_at: Date | null
  last_activity_at: Timestamp
  created_at: CreatedAt
  updated_at: Timestamp
  buyer_display_name: ColumnType<string | null, string | null | undefined, string | null>
  seller_display_name: ColumnType<string | null, string | null | undefined, string | null>
  listing_title: ColumnType<string | null, string | null | undefined, string | null>
  listing_price: ColumnType<string | null, string | null | undefined, string | null>
  listing_currency: ColumnType<string | null, string | null | undefined, string | null>
  listing_image_url: ColumnType<string | null, string | null | undefined, string | null>
  listing_url: ColumnType<string | null, string | null | undefined, string | null>
  listing_fetched_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

export interface MessagesTable {
  chat_id: string
  seq: number
  id: string
  sender_id: string
  sender_is_registered: boolean
  message_text: string
  client_message_id: string | null
  /** What the contact filter found ("contact_info"); shown to moderators only. */
  flags: Generated<string[]>
  created_at: CreatedAt
}

export interface SellerBuyerLabelsTable {
  seller_id: string
  buyer_id: string
  label: number
}

/** Guest identities claimed by a registered user; their tokens are refused from then on. */
export interface ClaimedGuestsTable {
  guest_id: string
  user_id: string
  claimed_at: CreatedAt
}

export interface BlocksTable {
  blocker_key: string
  blocked_key: string
  created_at: CreatedAt
}

export interface ReportsTable {
  id: string
  chat_id: string
  reporter_key: string
  reported_key: string
  reason: string
  seq: number | null
  comment: string | null
  status: Generated<string>
  resolution: string | null
  resolved_by: string | null
  resolved_at: Date | null
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface BansTable {
  user_key: string
  reason: string | null
  banned_by: string
  created_at: CreatedAt
}

export interface ModerationReadsTable {
  id: Generated<string>
  moderator_id: string
  chat_id: string
  what: string
  created_at: CreatedAt
}

/** A chat's side with unread messages (or its first message) waiting for due_at (migration 0006). */
export interface NotifyPendingTable {
  chat_id: string
  kind: 'buyer' | 'seller' | 'chat_created'
  due_at: Date
}

export interface NotifyOutboxTable {
  id: Generated<string>
  channel: 'webhook' | 'push'
  event_id: string
  event_type: string
  body: string
  subscription_id: string | null
  attempts: Generated<number>
  created_at: CreatedAt
  next_attempt_at: Timestamp
  last_error: string | null
}

export interface NotifyDeadLettersTable {
  id: string
  channel: 'webhook' | 'push'
  event_id: string
  event_type: string
  body: string
  subscription_id: string | null
  attempts: number
  created_at: Date
  failed_at: Timestamp
  last_error: string | null
}

export interface PushSubscriptionsTable {
  id: string
  identity_key: string
  endpoint: string
  p256dh: string
  auth: string
  created_at: CreatedAt
}

export interface AttachmentsTable {
  id: string
  chat_id: string
  uploader_key: string
  content_type: string
  size: number
  width: number
  height: number
  thumb_size: number
  etag: string
  thumb_etag: string
  message_id: string | null
  position: number | null
  claimed_at: Date | null
  created_at: CreatedAt
}

export interface AttachmentBlobsTable {
  key: string
  data: Buffer
}

/** Per seller and listing: the chats the seller's inbox shows, kept by a trigger on chats (migration 0009). */
export interface SellerListingCountsTable {
  seller_id: string
  listing_id: string
  shown: number
  shown_with_blocked: number
}

/** Per seller: the inbox's totals of chats and of listings with a chat shown, without and with blocked chats. */
export interface SellerInboxCountsTable {
  seller_id: string
  chats: number
  listings: number
  chats_with_blocked: number
  listings_with_blocked: number
}

export interface Database {
  attachments: AttachmentsTable
  attachment_blobs: AttachmentBlobsTable
  claimed_guests: ClaimedGuestsTable
  chats: ChatsTable
  messages: MessagesTable
  seller_buyer_labels: SellerBuyerLabelsTable
  seller_listing_counts: SellerListingCountsTable
  seller_inbox_counts: SellerInboxCountsTable
  blocks: BlocksTable
  reports: ReportsTable
  bans: BansTable
  moderation_reads: ModerationReadsTable
  notify_pending: NotifyPendingTable
  notify_outbox: NotifyOutboxTable
  notify_dead_letters: NotifyDeadLettersTable
  push_subscriptions: PushSubscriptionsTable
}

export type ChatRow = Selectable<ChatsTable>
export type NewChat = Insertable<ChatsTable>
export type MessageRow = Selectable<MessagesTable>
export type AttachmentRow = Selectable<AttachmentsTable>
