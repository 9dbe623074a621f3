// Owns who takes part in a chat and the keys they are known by: the one place chat columns become identities.
import { identityKey, type Identity } from '../auth/identity.js'

export type Role = 'buyer' | 'seller'

/** The columns that name a chat's two people; chat rows, list rows and summaries all carry them. */
export interface ParticipantColumns {
  seller_id: string
  buyer_id: string
  buyer_is_registered: boolean
}

/** A person as presence and fan-out address them. */
export interface Person { key: string, userId: string }

/** A caller's checked access to one chat: what the transport keeps instead of a database row. */
export interface ChatAccess {
  chatId: string
  /** The caller's side of the chat. */
  role: Role
  buyer: Identity
  seller: Identity
}

// Sellers are always marketplace accounts; a buyer may be anonymous. Changing what a buyer is (claiming an
// anonymous history) or refusing one (a ban) starts here.
export function buyerOf (chat: ParticipantColumns): Identity {
  return { userId: chat.buyer_id, registered: chat.buyer_is_registered }
}

export function sellerOf (chat: ParticipantColumns): Identity {
  return { userId: chat.seller_id, registered: true }
}

export function buyerKey (chat: ParticipantColumns): string {
  return identityKey(buyerOf(chat))
}

export function sellerKey (chat: ParticipantColumns): string {
  return identityKey(sellerOf(chat))
}

/** The caller's side of a chat, or null when they are not part of it (registered and anonymous ids never mix). */
export function roleIn (chat: ParticipantColumns, identity: Identity): Role | null {
  if (identity.registered && chat.seller_id === identity.userId) return 'seller'
  if (chat.buyer_id === identity.userId && chat.buyer_is_registered === identity.registered) return 'buyer'
  return null
}

/** The other side of a chat, as seen from role. */
export function counterpartOf (chat: ParticipantColumns, role: Role): Identity {
  return role === 'seller' ? buyerOf(chat) : sellerOf(chat)
}

export function accessTo (chat: ParticipantColumns & { id: string }, role: Role): ChatAccess {
  return { chatId: chat.id, role, buyer: buyerOf(chat), seller: sellerOf(chat) }
}

export function personOf (identity: Identity): Person {
  return { key: identityKey(identity), userId: identity.userId }
}

/** Who sent a message. */
export function senderOf (message: { sender_id: string, sender_is_registered: boolean }): Identity {
  return { userId: message.sender_id, registered: message.sender_is_registered }
}
