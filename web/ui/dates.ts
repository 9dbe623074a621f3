// Owns dates as people read them: times in the locale's own clock, and day separator labels (no DOM, unit-tested).
import type { Locale } from '../locales/index.js'

/** A time in the locale's own format; with the date unless timeOnly or today. */
export function fmtTime (lang: string, iso: string | null | undefined, timeOnly = false): string {
  if (!iso) return ''
  const d = new Date(iso)
  // timeStyle short is the locale's own clock: "3:09 AM" in English, "03:09" in Russian.
  const time = new Intl.DateTimeFormat(lang, { timeStyle: 'short' } as Intl.DateTimeFormatOptions).format(d)
  if (timeOnly || d.toDateString() === new Date().toDateString()) return time
  return new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' }).format(d) + ', ' + time
}

/** The local calendar day of an ISO time, as a key. */
export function dayKey (iso: string): string {
  const d = new Date(iso)
  return d.getFullYear() + '-' + (d.getMonth() + 1) + '-' + d.getDate()
}

/** "Today", "Yesterday" or the date in the locale's words (the year only when it is not this year's). */
export function dayLabel (t: Locale, iso: string, now = new Date()): string {
  const d = new Date(iso)
  if (dayKey(iso) === dayKey(now.toISOString())) return t.today
  const y = new Date(now)
  y.setDate(now.getDate() - 1)
  if (dayKey(iso) === dayKey(y.toISOString())) return t.yesterday
  return new Intl.DateTimeFormat(t.lang, d.getFullYear() === now.getFullYear()
    ? { day: 'numeric', month: 'long' }
    : { day: 'numeric', month: 'long', year: 'numeric' }).format(d)
}
