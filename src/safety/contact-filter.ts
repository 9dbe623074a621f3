// Owns finding off-platform contact details in message text (phones, e-mails, links and bare domains, messenger handles) and masking them.
import { find as findLinks } from 'linkifyjs'
import { CONTACT_MASK } from '../protocol/limits.js'

export interface ContactMatch {
  kind: 'phone' | 'email' | 'url' | 'handle'
  start: number
  end: number
}

// A digit run with the separators people type between groups: spaces, dots, dashes, parentheses; a leading +.
const PHONE_CANDIDATE = /(?<![\p{L}\p{N}_+])\+?\(?\d(?:[ \t\u00a0.\-()]{0,3}\d){5,16}(?![\p{L}\p{N}_])/gu
// Shapes with phone-like digit counts that are something else: 1 000 000 (a price), 12.05.2024 (a date).
const THOUSANDS = /^\d{1,3}(?:[ \u00a0.,]\d{3})+$/
const DATE = /^(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2})$/
// Messenger names (Latin and Cyrillic spellings): an @handle next to one is a way to write off the platform.
const MESSENGERS = /(telegram|телеграм|телега|\btg\b|\bтг\b|whats\s?app|ватсап|вотсап|ватсапп|viber|вайбер|signal|сигнал|skype|скайп|instagram|инстаграм|\binsta\b|\bинст|\bvk\b|\bвк\b|wechat|discord|дискорд|snapchat)/iu
const HANDLE = /(?<![\p{L}\p{N}_@.])@[A-Za-z][A-Za-z0-9_.]{2,31}(?![\p{L}\p{N}_@])/gu
/** How far (characters) a messenger's name may be from an @handle for the two to count as one contact. */
const HANDLE_CONTEXT = 40

function phones (text: string): ContactMatch[] {
  const found: ContactMatch[] = []
  for (const match of text.matchAll(PHONE_CANDIDATE)) {
    // Trailing separators (a closing parenthesis of a sentence) belong to the text, not the number.
    const value = match[0].replace(/[\s.\-(]+$/u, '')
    const digits = value.replace(/\D/g, '').length
    const separated = /[^\d]/.test(value.replace(/^\+/, ''))
    // International numbers have at most 15 digits; a bare run needs enough digits to be more than an order number.
    if (digits > 15 || digits < (separated ? 7 : 9)) continue
    if (!value.startsWith('+') && (THOUSANDS.test(value) || DATE.test(value))) continue
    found.push({ kind: 'phone', start: match.index, end: match.index + value.length })
  }
  return found
}

function handles (text: string): ContactMatch[] {
  const found: ContactMatch[] = []
  for (const match of text.matchAll(HANDLE)) {
    const around = text.slice(Math.max(0, match.index - HANDLE_CONTEXT), match.index + match[0].length + HANDLE_CONTEXT)
    if (MESSENGERS.test(around)) found.push({ kind: 'handle', start: match.index, end: match.index + match[0].length })
  }
  return found
}

/** Every contact detail in the text, in order, overlaps merged (an e-mail's digits are not also a phone). */
export function findContacts (text: string): ContactMatch[] {
  // linkifyjs knows the TLD list, so "t.me/x", "wa.me/7999…", "shop.example.com" and e-mails are found without a home-made regex.
  const links: ContactMatch[] = findLinks(text).map((link) => ({
    kind: link.type === 'email' ? 'email' : 'url',
    start: link.start,
    end: link.end
  }))
  const all = [...links, ...phones(text), ...handles(text)].sort((a, b) => a.start - b.start || b.end - a.end)
  const merged: ContactMatch[] = []
  for (const match of all) {
    const last = merged[merged.length - 1]
    if (last !== undefined && match.start < last.end) {
      last.end = Math.max(last.end, match.end)
      continue
    }
    merged.push({ ...match })
  }
  return merged
}

/** The text with every match replaced by CONTACT_MASK (shared with the widgets, which explain it). */
export function maskContacts (text: string, matches: readonly ContactMatch[]): string {
  let out = ''
  let at = 0
  for (const match of matches) {
    out += text.slice(at, match.start) + CONTACT_MASK
    at = match.end
  }
  return out + text.slice(at)
}
