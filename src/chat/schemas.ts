// Owns the shapes chats and messages take on the wire (REST bodies, WebSocket frames); TypeScript types derive from them.
import { Type, type Static } from 'typebox'

export const Message = Type.Object({
  id: Type.String({ format: 'uuid' }),
  chat_id: Type.String({ format: 'uuid' }),
  seq: Type.Integer({ minimum: 1 }),
  sender_id: Type.String(),
  sender_is_registered: Type.Boolean(),
  message_text: Type.String(),
  client_message_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  is_read: Type.Boolean({ description: "True once the other participant's read pointer reaches this message" })
})
export type Message = Static<typeof Message>

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
  updated_at: Type.String({ format: 'date-time' })
})
export type ChatSummary = Static<typeof ChatSummary>

export const ListingGroup = Type.Object({
  listing_id: Type.String(),
  unread_count: Type.Integer(),
  last_message_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  chats: Type.Array(ChatSummary)
})
export type ListingGroup = Static<typeof ListingGroup>

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

export const ClientMessageId = Type.String({ minLength: 1, maxLength: 128, description: 'Chosen by the client; a retry with the same id never makes a duplicate' })
// No maxLength: the limit is counted after sanitizing (message_too_long), and a schema limit would answer
// validation_failed instead. The body limit (REST) and the frame limit (WebSocket) bound what arrives.
export const MessageText = Type.String()
