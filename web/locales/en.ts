// Owns the English strings.
import type { SafetyStrings, Strings } from './strings.js'

export const en: Strings = {
  chat: 'Chat', chatWithSeller: 'Chat with the seller', close: 'Close chat', send: 'Send',
  placeholder: 'Write a message…', typing: 'typing…', connecting: 'Connecting…', reconnecting: 'Reconnecting…',
  pending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent', online: 'online', offline: 'offline',
  seller: 'Seller', you: 'You', guest: 'guest', loadingOlder: 'Loading earlier messages…',
  empty: 'No messages yet. Say hello!', newMessage: 'New message from {who}: {text}', unread: '{n} unread', launcher: 'Chats, {n} unread',
  noChats: 'No conversations yet', back: 'Back to chats', chats: 'Chats', selectChat: 'Select a conversation',
  listing: 'Listing {id}', buyer: 'Buyer', messages: 'Messages',
  noConnection: 'No connection', retry: 'Retry', newMessages: 'New messages', today: 'Today', yesterday: 'Yesterday',
  chatsTotal: '{n} chats', loadingMore: 'Loading more chats…', counter: '{n} / {max}',
  retryIn: 'Too many new visitors from your network. Trying again in {s} s…', dialog: 'Chat',
  attach: 'Attach a photo', photo: 'Photo', photoFrom: 'Photo from {who}', yourPhoto: 'Your photo',
  uploading: 'Uploading photo… {n}%', uploadFailed: 'Photo not sent', remove: 'Remove', cancel: 'Cancel', closePhoto: 'Close photo',
  photoNeedsConnection: 'Photos need a connection. Try again when you are online.',
  e: {
    payload_too_large: 'This photo is too big.', unsupported_media_type: 'Only JPEG, PNG, WebP and GIF photos can be sent.',
    image_too_large: 'This photo has too many pixels.', invalid_image: 'This file is not a readable image.',
    attachment_not_found: 'This photo is no longer available. Attach it again.', attachment_already_used: 'This photo was already sent.',
    cors: 'Chat is not available on this site yet.',
    rate_limited: 'You are sending messages too fast. Please wait a moment.',
    message_too_long: 'The message is too long ({max} characters at most).',
    empty_message: 'The message is empty.', validation_failed: 'This message cannot be sent.',
    cannot_chat_with_self: 'This is your own listing.', listing_not_found: 'This listing no longer exists.',
    listing_inactive: 'This listing is no longer active.', chat_not_found: 'This conversation is not available.',
    unauthorized: 'Your session has expired. Please reload the page.',
    token_expired: 'Your session has expired. Please reload the page.',
    service_unavailable: 'Chat is temporarily unavailable. Your messages will be sent when it is back.',
    blocked: 'You cannot write here: this person has blocked you.', banned: 'Your account cannot use chat.',
    contact_info_blocked: 'Phone numbers, e-mails, links and messenger contacts cannot be sent. Keep the conversation here.',
    contact_info_masked: 'Phone numbers, e-mails, links and messenger contacts are hidden (•••). Keep the conversation here.',
    spam_suspected: 'This message looks like spam and was not sent.',
    network: 'No connection. Please check your internet.', generic: 'Something went wrong. Please try again.'
  }
}

export const enSafety: SafetyStrings = {
  chatOptions: 'Chat options', block: 'Block', unblock: 'Unblock', report: 'Report', reported: 'Report sent',
  youBlocked: 'You blocked this person', cannotReply: 'You can\'t reply in this chat', reasons: ['Spam', 'Scam', 'Abuse', 'Other']
}
