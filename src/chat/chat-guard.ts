// Owns the port ChatService asks before it creates a chat or stores a message: refuse, rewrite or flag (blocks, spam limits, the contact filter live behind it).
import type { Identity } from '../auth/identity.js'

/** What a new chat between these two starts with: a block either way already in place. */
export interface NewChatFlags {
  blockedBySeller: boolean
  blockedByBuyer: boolean
}

/** The text to store (maybe masked) and what was found in it, for moderators. */
export interface CheckedText {
  text: string
  flags: string[]
}

/**
 * Both checks run before anything is written and before a message joins a group-commit batch, so a refusal (an
 * AppError) fails that one request alone and stores nothing.
 */
export interface ChatGuard {
  /** A buyer is about to open a new chat with this seller (not called when the chat already exists). */
  beforeNewChat: (buyer: Identity, sellerId: string) => Promise<NewChatFlags>
  /** A message (already cleaned) is about to be stored in this chat. */
  beforeSend: (sender: Identity, chatId: string, text: string) => Promise<CheckedText>
}

/** No safety checks: every chat opens, every text is stored as sent. */
export const openGuard: ChatGuard = {
  beforeNewChat: async () => ({ blockedBySeller: false, blockedByBuyer: false }),
  beforeSend: async (_sender, _chatId, text) => ({ text, flags: [] })
}
