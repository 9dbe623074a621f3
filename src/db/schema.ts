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
  last_message_text: string | null
  last_message_sender_id: string | null
  last_message_at: Date | null
  last_activity_at: Timestamp
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface MessagesTable {
  chat_id: string
  seq: number
  id: string
  sender_id: string
  sender_is_registered: boolean
  message_text: string
  client_message_id: string | null
  created_at: CreatedAt
}

export interface SellerBuyerLabelsTable {
  seller_id: string
  buyer_id: string
  label: number
}

export interface Database {
  chats: ChatsTable
  messages: MessagesTable
  seller_buyer_labels: SellerBuyerLabelsTable
}

export type ChatRow = Selectable<ChatsTable>
export type NewChat = Insertable<ChatsTable>
export type MessageRow = Selectable<MessagesTable>
