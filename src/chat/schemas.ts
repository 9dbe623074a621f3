// Owns the shapes chats and messages take on the wire (REST bodies, WebSocket frames); TypeScript types derive from them.
import { Type, type Static } from 'typebox'
import { StorableString } from './storable-text.js'

export const AttachmentRef = Type.Object({
  id: Type.String({ format: 'uuid' }),
  content_type: Type.String({ description: 'image/jpeg, image/png or image/webp (a GIF is stored as its first frame, in PNG)' }),
  size: Type.Integer({ description: 'Bytes of the re-encoded image' }),
  width: Type.Integer(),
  height: Type.Integer(),
  url: Type.String({ description: 'Service path of the full image, signed and expiring (?exp=&sig=); fetched again, a message carries fresh ones' }),
  thumb_url: Type.String({ description: 'Service path of the 320 px thumbnail, signed like url' })
})
export type AttachmentRef = Static<typeof AttachmentRef>

export const Message = Type.Object({
  id: Type.String({ format: 'uuid' }),
  chat_id: Type.String({ format: 'uuid' }),
  seq: Type.Integer({ minimum: 1 }),
  sender_id: Type.String(),
  sender_is_registered: Type.Boolean(),
  message_text: Type.String({ description: 'Plain text as the sender typed it (it may contain "<" and "&"): render it as text (textContent), never as HTML' }),
  client_message_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  is_read: Type.Boolean({ description: "True once the other participant's read pointer reaches this message" }),
  attachments: Type.Optional(Type.Array(AttachmentRef, { description: 'Photos, in the order sent; present only when the message has some' }))
})
export type Message = Static<typeof Message>

/** What the marketplace's listing lookup said about the listing; every field null without a lookup (never from a buyer). */
export const ListingDetails = Type.Object({
  title: Type.Union([Type.String(), Type.Null()]),
  price: Type.Union([Type.String(), Type.Null()], { description: 'Decimal number as text, e.g. "1200.50"' }),
  currency: Type.Union([Type.String(), Type.Null()]),
  image_url: Type.Union([Type.String(), Type.Null()], { description: 'http(s) only' }),
  url: Type.Union([Type.String(), Type.Null()], { description: 'http(s) only' })
})
export type ListingDetails = Static<typeof ListingDetails>

export const ChatSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  listing_id: Type.String(),
  seller_id: Type.String(),
  buyer_id: Type.String(),
  buyer_is_registered: Type.Boolean(),
  buyer_label: Type.Union([Type.String(), Type.Null()], { description: '"Buyer N" for anonymous buyers, stable per seller' }),
  role: Type.Union([Type.Literal('buyer'), Type.Literal('seller')], { description: "The caller's side of this chat" }),
  counterpart_id: Type.String(),
  last_seq: Type.Integer(),
  my_last_read_seq: Type.Integer(),
  other_last_read_seq: Type.Integer(),
  unread_count: Type.Integer(),
  last_message: Type.Union([Type.String(), Type.Null()], { description: 'Preview of the latest message' }),
  last_message_sender_id: Type.Union([Type.String(), Type.Null()]),
  last_message_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  buyer_number: Type.Union([Type.Integer(), Type.Null()], { description: 'N of "Buyer N" for anonymous buyers (for a translated label); null for registered buyers' }),
  buyer_display_name: Type.Union([Type.String(), Type.Null()], { description: "The buyer's latest name from their marketplace token (plain text, at most 100 characters); null if none" }),
  seller_display_name: Type.Union([Type.String(), Type.Null()], { description: "The seller's latest name from their marketplace token; null if none" }),
  listing: ListingDetails,
  blocked_by_me: Type.Boolean({ description: 'The caller blocked the other person: their messages are refused in every chat between the two' }),
  blocked_by_other: Type.Boolean({ description: 'The other person blocked the caller: the caller cannot send here' })
})
export type ChatSummary = Static<typeof ChatSummary>

export const ListingGroup = Type.Object({
  listing_id: Type.String(),
  unread_count: Type.Integer(),
  last_message_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  chats: Type.Array(ChatSummary)
})
export type ListingGroup = Static<typeof ListingGroup>

export const GroupedInboxPage = Type.Object({
  groups: Type.Array(ListingGroup),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
  total_chats: Type.Integer({ description: "Visible chats in the seller's whole inbox" }),
  total_listings: Type.Integer({ description: 'Listings those chats are about' })
})
export type GroupedInboxPage = Static<typeof GroupedInboxPage>

export const ReadState = Type.Object({
  chat_id: Type.String({ format: 'uuid' }),
  user_id: Type.String(),
  last_read_seq: Type.Integer()
})
export type ReadState = Static<typeof ReadState>

export const UnreadCount = Type.Object({
  total: Type.Integer({ description: 'Unread messages over all chats' }),
  chats: Type.Integer({ description: 'Chats with at least one unread message' })
})
export type UnreadCount = Static<typeof UnreadCount>

// seq, read pointers and offsets meet Postgres integers: a larger number must be refused before it gets there.
export const MAX_DB_INTEGER = 2_147_483_647

/**
 * Marks a number schema for the REST validator's finiteness check (see finiteNumbers in http/schemas.ts): Ajv
 * coerces the strings "Infinity" and "1e999" to Infinity and then skips minimum/maximum for a non-finite number.
 * Frames need no such check: TypeBox refuses non-finite integers itself.
 */
export const FINITE_KEYWORD = 'x-finite'

/** Every integer a client sends: explicit, finite, and within what a Postgres integer column holds. */
export const DbInteger = (minimum: number, options: { maximum?: number, default?: number, description?: string } = {}) =>
  Type.Integer({ minimum, maximum: MAX_DB_INTEGER, [FINITE_KEYWORD]: true, ...options })

export const ClientMessageId = StorableString({
  minLength: 1,
  maxLength: 128,
  description: 'Chosen by the client; a retry with the same id never makes a duplicate. No U+0000, no unpaired surrogates, no leading U+FEFF.'
})
// No maxLength: the limit is counted after sanitizing (message_too_long), and a schema limit would answer
// validation_failed instead. The body limit (REST) and the frame limit (WebSocket) bound what arrives.
export const MessageText = Type.String()

export const AttachmentIds = Type.Array(Type.String({ maxLength: 64 }), {
  maxItems: 10,
  description: 'Ids from POST /api/chat/chats/:id/attachments, at most 10; message_text may then be empty'
})
