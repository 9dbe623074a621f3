// Owns the protocol numbers both sides must agree on; dependency-free, so the browser bundle can import it too.

/** Longest message text, in characters (code points), counted after sanitizing. */
export const MAX_MESSAGE_LENGTH = 2000

/** How long a "typing" indicator lasts without a refresh (the server's TYPING_TIMEOUT_MS default). */
export const TYPING_TIMEOUT_MS = 6000

/** Close code of a socket whose token reached its exp without a fresh {"type":"auth"} frame. */
export const CLOSE_TOKEN_EXPIRED = 4001

/** Close code of every socket of a guest whose chats a registered user claimed: sign in with the account token. */
export const CLOSE_IDENTITY_CLAIMED = 4002

/** Close code of a chat socket whose chat a claim moved or merged: reconnect (to to_chat_id of chat_merged). */
export const CLOSE_CHAT_CHANGED = 4003

/** Close code of every socket of a person a moderator banned (on every instance); reconnecting is refused with 403 banned. */
export const CLOSE_BANNED = 4004

/** What the contact filter's mask mode puts in place of a phone number, e-mail, link or handle. */
export const CONTACT_MASK = '•••'
