// The three languages say the same things, with the protocol's numbers filled in, and choosing one changes nothing shared.
import t from 'tap'
import { MAX_MESSAGE_LENGTH } from '../../src/protocol/limits.js'
import { en } from '../../web/locales/en.js'
import { errText, pickLocale } from '../../web/locales/index.js'
import { ru } from '../../web/locales/ru.js'
import { uk } from '../../web/locales/uk.js'

const keys = (o: object): string[] => Object.keys(o).sort()

t.test('every locale has every string and error text', async (t) => {
  for (const [name, table] of Object.entries({ ru, uk })) {
    t.same(keys(table), keys(en), `${name}: same strings as English`)
    t.same(keys(table.e), keys(en.e), `${name}: same error texts as English`)
  }
})

t.test('picking a locale copies it and leaves the tables alone', async (t) => {
  const before = JSON.stringify({ en, ru, uk })
  const a = pickLocale('uk-UA')
  const b = pickLocale('de')
  t.equal(a.lang, 'uk')
  t.equal(a.placeholder, uk.placeholder)
  t.equal(b.lang, 'en', 'unknown languages fall back to English')
  a.placeholder = 'changed'
  t.equal(JSON.stringify({ en, ru, uk }), before, 'the shared tables are untouched')
  t.equal(pickLocale('uk').placeholder, uk.placeholder, 'and the next widget gets the real text')
})

t.test('the length limit in the error text is the protocol limit', async (t) => {
  for (const lang of ['en', 'ru', 'uk']) {
    t.match(errText(pickLocale(lang), 'message_too_long'), String(MAX_MESSAGE_LENGTH), lang)
  }
  t.equal(errText(pickLocale('en'), 'some_future_code'), en.e.generic, 'an unknown code reads as the generic text')
})
