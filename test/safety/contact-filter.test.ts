// Tests the contact finder on the real formats people use to move a buyer off the platform, and on look-alikes that must pass.
import t from 'tap'
import { findContacts, maskContacts } from '../../src/safety/contact-filter.js'

const masked = (text: string): string => maskContacts(text, findContacts(text))

t.test('phone numbers in international and local formats are found whole', async (t) => {
  for (const phone of ['+7 999 123-45-67', '8 (999) 123 45 67', '+380 67 123 4567', '+1 (415) 555-0100', '0171 1234567',
    '89991234567', '+79991234567', '999.123.45.67', '(999) 123-45-67', '123-45-67']) {
    t.equal(masked(`call me ${phone} please`), 'call me ••• please', phone)
  }
})

t.test('numbers that are not phones pass', async (t) => {
  for (const text of ['price 1 000 000 rub', 'on 12.05.2024 at 10:30', 'order 12345', 'I have 2 items for 300 each',
    'size 42, 38 cm', 'version 1.2.3', 'node.js is nice', 'room 101']) {
    t.same(findContacts(text), [], text)
  }
})

t.test('e-mails, links and bare domains are found by the linkifier', async (t) => {
  t.equal(masked('write to foo@bar.ru now'), 'write to ••• now')
  t.equal(masked('see shop.example.com!'), 'see •••!')
  t.equal(masked('https://fake-delivery.top/pay?id=1'), '•••')
  t.same(findContacts('write to foo@bar.ru').map((m) => m.kind), ['email'])
})

t.test('messenger links and handles next to a messenger name', async (t) => {
  t.equal(masked('t.me/seller_bob'), '•••')
  t.equal(masked('wa.me/79991234567'), '•••')
  t.equal(masked('my telegram @ivan_petrov'), 'my telegram •••')
  t.equal(masked('пишите в телеграм @ivan_petrov'), 'пишите в телеграм •••')
  t.equal(masked('WhatsApp: @shop.kyiv'), 'WhatsApp: •••')
  // An @mention without a messenger nearby is just text.
  t.same(findContacts('thanks @anna, see you'), [])
})

t.test('several matches are masked one by one and the rest is kept', async (t) => {
  t.equal(masked('tel +7 999 123-45-67 or mail a@b.co'), 'tel ••• or mail •••')
})
