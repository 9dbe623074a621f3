// Owns unsent text per chat and identity: kept in localStorage, so switching chats, Escape or a reload loses nothing.
import { load, save } from './storage.js'

const key = (chatId: string, me: string): string => 'mchat:draft:' + chatId + ':' + me

export function loadDraft (chatId: string, me: string): string {
  return load<string>(key(chatId, me)) ?? ''
}

export function saveDraft (chatId: string, me: string, text: string): void {
  save(key(chatId, me), text.trim() ? text : null)
}
