// Owns turning chat events into broker publishes: message and read frames to the chat's sockets, chat_updated to both inboxes.
import type { Broker, ChatEvent, UserEvent } from './broker.js'
import type { ChatEvents } from '../chat/chat-events.js'
import { summarize } from '../chat/chat-service.js'
import { buyerKey, sellerKey } from '../chat/participants.js'
import type { Logger } from '../logger.js'
import { identityKey } from '../auth/identity.js'
import { CLOSE_IDENTITY_CLAIMED } from '../protocol/limits.js'

export function fanOutEvents (broker: Broker, log: Pick<Logger, 'warn'>): ChatEvents {
  /**
   * Fire and forget: the database is the truth and already committed, so a slow or failed broker never delays
   * or fails an ack; clients recover anything missed with after_seq.
   */
  const settle = (published: Promise<void>, channel: string, event: ChatEvent | UserEvent): void => {
    published.catch((error: unknown) => {
      log.warn({ err: error, channel, type: event.type }, 'publish failed; clients will catch up on reconnect')
    })
  }
  const toChat = (chatId: string, event: ChatEvent): void => { settle(broker.publishChat(chatId, event), chatId, event) }
  const toUser = (userKey: string, event: UserEvent): void => { settle(broker.publishUser(userKey, event), userKey, event) }

  const chatChanged: ChatEvents['chatChanged'] = (chat) => {
    // Most buyers never open an inbox: a summary nobody listens for is not built.
    const seller = sellerKey(chat)
    const buyer = buyerKey(chat)
    if (broker.mayHaveUserListeners(seller)) toUser(seller, { type: 'chat_updated', chat: summarize(chat, 'seller') })
    if (broker.mayHaveUserListeners(buyer)) toUser(buyer, { type: 'chat_updated', chat: summarize(chat, 'buyer') })
  }

  return {
    guestClaimed: ({ guest, user, moved, merged }) => {
      // Every instance closes the guest's sockets (the control channel); the token is refused from now on.
      const guestKey = identityKey(guest)
      broker.publishControl({ type: 'close_user', user_key: guestKey, code: CLOSE_IDENTITY_CLAIMED, reason: 'identity_claimed' })
        .catch((error: unknown) => { log.warn({ err: error }, 'could not close the claimed guest\'s sockets everywhere') })
      for (const chat of moved) {
        toChat(chat.id, { type: 'chat_moved', seller: summarize(chat, 'seller'), buyer: summarize(chat, 'buyer') })
        chatChanged(chat)
      }
      for (const { fromChatId, chat } of merged) {
        const event = { type: 'chat_merged', from_chat_id: fromChatId, to_chat_id: chat.id } as const
        toChat(fromChatId, event)
        toUser(sellerKey(chat), event)
        toUser(identityKey(user), event)
        chatChanged(chat)
      }
    },
    messageStored: ({ message, chat, origin }) => { toChat(chat.id, { type: 'message', message, origin }) },
    readAdvanced: ({ chat, reader, lastReadSeq }) => { toChat(chat.id, { type: 'read', user_id: reader.userId, last_read_seq: lastReadSeq }) },
    chatChanged: (chat) => {
      // Most buyers never open an inbox: a summary nobody listens for is not built.
      const seller = sellerKey(chat)
      const buyer = buyerKey(chat)
      // A chat without a message is not in the seller's inbox yet (an opened-and-abandoned chat is no news).
      if (chat.last_seq > 0 && broker.mayHaveUserListeners(seller)) toUser(seller, { type: 'chat_updated', chat: summarize(chat, 'seller') })
      if (broker.mayHaveUserListeners(buyer)) toUser(buyer, { type: 'chat_updated', chat: summarize(chat, 'buyer') })
    }
  }
}
