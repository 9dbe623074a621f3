// Owns choosing a locale and filling its templates; the tables themselves are never modified.
import { MAX_MESSAGE_LENGTH } from '../../src/protocol/limits.js'
import { en } from './en.js'
import { ru } from './ru.js'
import { uk } from './uk.js'
import type { Strings } from './strings.js'

export type { Strings }

/** A locale with the language it is in (for date formats). */
export type Locale = Strings & { lang: string, dir: 'ltr' | 'rtl' }

/** Languages written right to left: the UI mirrors (strings fall back to English until a table exists). */
const RTL = new Set(['ar', 'he', 'fa', 'ur', 'yi'])

const TABLES: Record<string, Strings> = { en, ru, uk }

/** The locale for a language tag ('uk', 'ru-RU', …); English for anything else. A new object: tables stay as they are. */
export function pickLocale (lang: string | null | undefined): Locale {
  const code = String(lang || 'en').toLowerCase().slice(0, 2)
  const table = TABLES[code]
  const rtl = RTL.has(code)
  return Object.assign({}, table ?? en, { lang: table || rtl ? code : 'en', dir: rtl ? 'rtl' as const : 'ltr' as const })
}

export function fill (s: string, vars: Record<string, string | number>): string {
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''))
}

/** The text for an error code, with the protocol's numbers filled in. */
export function errText (t: Strings, code: string): string {
  return fill(t.e[code as keyof Strings['e']] ?? t.e.generic, { max: MAX_MESSAGE_LENGTH })
}
