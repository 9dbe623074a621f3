// Owns display names: what a token's name claim may become before other people see it (plain, storable, one line, capped).
import { cleanMessageText } from './sanitize.js'
import { isStorableText } from './storable-text.js'

/** Longest display name, in code points. */
export const MAX_DISPLAY_NAME_LENGTH = 100

/**
 * A name as shown to the other side, or null when the claim holds nothing usable. It goes through the message-text
 * cleaner (control and bidi characters, live markup), then becomes one line of at most MAX_DISPLAY_NAME_LENGTH code
 * points. Never throws: a bad name makes a nameless user, never a failed request.
 */
export function cleanDisplayName (value: unknown): string | null {
  return cleanPlainLine(value, MAX_DISPLAY_NAME_LENGTH)
}

/** Any short text shown to other people (a name, a listing title): plain, one line, at most max code points, or null. */
export function cleanPlainLine (value: unknown, max: number): string | null {
  if (typeof value !== 'string' || !value.isWellFormed()) return null
  let clean: string
  try {
    clean = cleanMessageText([...value].slice(0, 10 * max).join(''))
  } catch {
    return null
  }
  const line = clean.replace(/\s+/gu, ' ').trim()
  const capped = [...line].slice(0, max).join('').trim()
  return capped === '' || !isStorableText(capped) ? null : capped
}
