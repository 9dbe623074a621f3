// Owns the shape of a locale: every string the widgets show, and the error codes they explain.
import type { ShownCode } from '../core/protocol.js'

export interface Strings {
  chat: string, chatWithSeller: string, close: string, send: string, placeholder: string, typing: string
  connecting: string, reconnecting: string, pending: string, sent: string, read: string, failed: string
  online: string, offline: string, seller: string, you: string, guest: string, loadingOlder: string, empty: string
  /** {who}, {text} */
  newMessage: string
  /** {n} */
  unread: string
  /** The launcher's accessible name with unread messages over all the buyer's chats: {n} */
  launcher: string
  noChats: string, back: string, chats: string, selectChat: string
  /** {id} */
  listing: string
  buyer: string, messages: string
  noConnection: string, retry: string, newMessages: string, today: string, yesterday: string
  /** {n} */
  chatsTotal: string
  loadingMore: string
  /** {n}, {max} */
  counter: string
  /** {s} */
  retryIn: string
  dialog: string
  /** Photos (issue #16). photoFrom: {who}; uploading: {n} (percent) */
  attach: string, photo: string, photoFrom: string, yourPhoto: string, uploading: string, uploadFailed: string
  remove: string, cancel: string, closePhoto: string, photoNeedsConnection: string
  /** Error texts; message_too_long takes {max}. Codes without a text show `generic`. */
  e: Partial<Record<ShownCode, string>> & { generic: string }
}

/** The Block/Report menu's strings: a table of their own, so only static/chat-safety.js carries them. */
export interface SafetyStrings {
  chatOptions: string, block: string, unblock: string, report: string, reported: string, youBlocked: string, cannotReply: string
  /** Report reasons: spam, scam, abuse, other (in this order). */
  reasons: [string, string, string, string]
}
