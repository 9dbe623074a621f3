// Day labels and times follow the locale (issue #19 item 13); the length rule is the server's (item 9).
import t from 'tap'
import { toPlainText } from '../../src/chat/sanitize.js'
import { messageLength } from '../../web/core/text-length.js'
import { pickLocale } from '../../web/locales/index.js'
import { dayLabel, fmtTime } from '../../web/ui/dates.js'

t.test('Today, Yesterday, then the date in the locale\'s words', async (t) => {
  const now = new Date(2026, 5, 15, 12, 0)
  const at = (d: number, m = 5, y = 2026): string => new Date(y, m, d, 9, 30).toISOString()
  t.equal(dayLabel(pickLocale('en'), at(15), now), 'Today')
  t.equal(dayLabel(pickLocale('ru'), at(14), now), 'Вчера')
  t.equal(dayLabel(pickLocale('uk'), at(15), now), 'Сьогодні')
  t.equal(dayLabel(pickLocale('en'), at(2), now), 'June 2')
  t.equal(dayLabel(pickLocale('ru'), at(2), now), '2 июня')
  t.equal(dayLabel(pickLocale('en'), at(2, 5, 2025), now), 'June 2, 2025', 'the year only for another year')
})

t.test('times in the locale format, without a leading zero in English', async (t) => {
  const early = new Date(2026, 5, 15, 3, 9).toISOString()
  t.equal(fmtTime('en', early, true).replace(/\s/g, ' '), '3:09 AM')
  t.equal(fmtTime('ru', early, true), '03:09')
})

t.test('the widget counts a message as the server stores it', async (t) => {
  for (const text of ['plain', '  padded \r\n', 'emoji 😀👍🏽', 'bidi \u202Eevil\u202C', 'nul\u0000 and C1 \u0085']) {
    t.equal(messageLength(text), Array.from(toPlainText(text)).length, JSON.stringify(text))
  }
})

t.test('Hebrew and Arabic mirror the UI', async (t) => {
  t.equal(pickLocale('he').dir, 'rtl')
  t.equal(pickLocale('ar-EG').dir, 'rtl')
  t.equal(pickLocale('ru').dir, 'ltr')
  t.equal(pickLocale('he').lang, 'he', 'dates in Hebrew')
})
