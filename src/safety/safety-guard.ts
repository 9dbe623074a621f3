// Owns the checks before a chat opens or a message is stored: blocks, new chats per guest per hour, the same text into many chats, and the contact filter.
import { createHash } from 'node:crypto'
import { identityKey, type Identity } from '../auth/identity.js'
import type { ChatGuard, CheckedText } from '../chat/chat-guard.js'
import { findChat, type Db } from '../chat/chat-repository.js'
import { roleIn } from '../chat/participants.js'
import type { SafetyConfig } from '../config.js'
import { AppError } from '../errors.js'
import { findContacts, maskContacts } from './contact-filter.js'
import type { SafetyEvents } from './safety-events.js'
import * as repo from './safety-repository.js'
import { SAME_TEXT_WINDOW_MINUTES, type SameTextWindow } from './text-window.js'

export const CONTACT_FLAG = 'contact_info'
const HOUR_MS = 60 * 60 * 1000

/**
 * The same text, as a spammer would vary it: case, spacing, punctuation and compatibility forms ignored. A text of
 * nothing but those keeps its own form, so "!!!" and "???" stay apart.
 */
export function textFingerprint (text: string): string {
  const folded = text.normalize('NFKC').toLowerCase()
  const core = folded.replace(/[\s\p{P}\p{S}]+/gu, '')
  return createHash('sha256').update(core === '' ? folded.replace(/\s+/gu, ' ').trim() : core).digest('base64url')
}

export interface SafetyGuardDeps {
  db: Db
  config: SafetyConfig
  events: () => SafetyEvents
  sameText: SameTextWindow
}

export function createSafetyGuard ({ db, config, events, sameText }: SafetyGuardDeps): ChatGuard {
  function filterContacts (sender: Identity, text: string): CheckedText {
    if (config.contactFilter === 'off' || (config.contactFilterScope === 'guests' && sender.registered)) return { text, flags: [] }
    const matches = findContacts(text)
    if (matches.length === 0) return { text, flags: [] }
    switch (config.contactFilter) {
      case 'block':
        throw new AppError('contact_info_blocked', 'Phone numbers, e-mail addresses, links and messenger handles cannot be sent here; keep the conversation in this chat')
      case 'mask':
        return { text: maskContacts(text, matches), flags: [CONTACT_FLAG] }
      default:
        return { text, flags: [CONTACT_FLAG] }
    }
  }

  // Only past the same-text limit, so the send path never pays for the lookup.
  async function isSellerIn (sender: Identity, chatId: string): Promise<boolean> {
    if (!sender.registered) return false
    const chat = await findChat(db, chatId)
    return chat !== undefined && roleIn(chat, sender) === 'seller'
  }

  return {
    async beforeNewChat (buyer, sellerId) {
      const seller: Identity = { userId: sellerId, registered: true }
      const [blockedBySeller, blockedByBuyer] = await Promise.all([repo.isBlocked(db, seller, buyer), repo.isBlocked(db, buyer, seller)])
      if (blockedBySeller) throw new AppError('blocked', 'This seller has blocked you')
      if (!buyer.registered) {
        const { count, oldestAt } = await repo.recentChatsOf(db, buyer)
        if (count >= config.chatsPerHour) {
          const retryAfterSeconds = Math.max(1, Math.ceil(((oldestAt ?? Date.now()) + HOUR_MS - Date.now()) / 1000))
          throw new AppError('rate_limited', `At most ${config.chatsPerHour} new chats per hour; retry in ${retryAfterSeconds} s`, { retryAfterSeconds })
        }
      }
      return { blockedBySeller, blockedByBuyer }
    },

    async beforeSend (sender, chatId, text) {
      const checked = filterContacts(sender, text)
      // A photo with no caption has no text to repeat: the same empty text in many chats is not spam.
      if (config.spamSameTextChats > 0 && checked.text !== '') {
        const senderKey = identityKey(sender)
        const fingerprint = textFingerprint(checked.text)
        const others = await sameText.claim(senderKey, fingerprint, chatId, config.spamSameTextChats)
        if (others >= config.spamSameTextChats) {
          // A seller answering many buyers the same way ("Yes, still available") is a busy seller, not a spammer: only
          // buyers open chats, so a seller can write only to people who wrote first. Asked only past the limit.
          if (!await isSellerIn(sender, chatId)) {
            events().spamSuspected({ sender, chat_id: chatId, other_chats: others })
            throw new AppError('spam_suspected', `The same text already went to ${others} other chats in the last ${SAME_TEXT_WINDOW_MINUTES} minutes; this message was not sent`)
          }
          await sameText.add(senderKey, fingerprint, chatId)
        }
      }
      return checked
    }
  }
}

/** Refuses a banned identity (an identity check of the auth plugin). */
export function banCheck (db: Db): (identity: Identity) => Promise<void> {
  return async (identity) => {
    if (await repo.isBanned(db, identity)) throw new AppError('banned', 'This account is banned from chat')
  }
}
