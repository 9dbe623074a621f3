// What a sender sees of each message (issue #19 items 2, 9, 13): sending, sent, read and failed with the reason and a
// Retry button; "No connection" instead of a stale "online"; the length counter; safe links and day separators.
import t from 'tap'
import { MAX_MESSAGE_LENGTH } from '../../src/protocol/limits.js'
import { computedStyle, DESKTOP, noChromium, openBuyerChat, PHONE, sendMessage, startHarness } from '../fixtures/browser.js'

t.test('four visible states, and No connection while the buyer is offline', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    const { context, page: buyer } = await h.open(viewport)
    await openBuyerChat(buyer, h.url)
    t.match(await buyer.locator('.panel .sub').textContent(), /Seller · (online|offline)$/, `${name}: presence in words`)

    await context.setOffline(true)
    await buyer.locator('.panel .status[data-state="reconnecting"]').waitFor()
    t.match(await buyer.locator('.panel .sub').textContent(), /No connection/, `${name}: the header says No connection`)
    t.notMatch(await buyer.locator('.panel .sub').textContent(), /online/, `${name}: and no longer claims online`)
    await sendMessage(buyer, 'Sent while offline')
    const sending = buyer.locator('.msg.pending .tick[data-tick="pending"]')
    await sending.waitFor()
    t.equal(await sending.textContent(), 'Sending…', `${name}: "Sending…" in full`)
    t.equal(await computedStyle(buyer, '.msg.pending .tick', 'letterSpacing'), 'normal', `${name}: no squeezed letters`)

    await context.setOffline(false)
    await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
    t.equal(await buyer.locator('.msg.mine .tick[data-tick="sent"]').getAttribute('aria-label'), 'Sent', `${name}: sent`)
  }
})

t.test('a refused message stays, with its reason and a Retry button', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Fine one')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()
  // Nothing but markup: the service cleans it to nothing and refuses it.
  await buyer.locator('textarea').fill('<b></b>')
  await buyer.locator('textarea').fill('<b></b>') // typed text first, so the box is not empty when the refusal lands
  await buyer.locator('textarea').press('Enter')
  await buyer.locator('textarea').fill('still typing')
  const failed = buyer.locator('.msg.failed')
  await failed.waitFor()
  t.equal(await failed.locator('.tick').textContent(), 'Not sent', 'marked Not sent')
  t.equal(await failed.locator('.why').textContent(), 'The message is empty.', 'with the reason')
  t.equal(await buyer.locator('textarea').inputValue(), 'still typing', 'the text box is left alone')
  await failed.locator('.retry').click()
  // Retried: refused again (the text is still only markup), still one failed bubble, never silently dropped.
  await buyer.locator('.msg.failed .retry').waitFor()
  t.equal(await buyer.locator('.msg.failed').count(), 1, 'one failed message after a retry refused again')
  await buyer.reload()
  await buyer.locator('.msg.failed .retry').waitFor()
  t.pass('a failed message survives a reload')
})

t.test('the length counter counts like the server and a paste is never cut', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  const counter = buyer.locator('.panel .counter')
  await buyer.locator('textarea').fill('short')
  t.ok(await counter.isHidden(), 'no counter far from the limit')
  // Emoji are two UTF-16 units and one character; the server counts characters (code points).
  const emoji = '😀'.repeat(MAX_MESSAGE_LENGTH - 10)
  await buyer.locator('textarea').fill(emoji)
  t.equal(await counter.textContent(), `${MAX_MESSAGE_LENGTH - 10} / ${MAX_MESSAGE_LENGTH}`, 'code points, not UTF-16 units')
  const long = 'x'.repeat(MAX_MESSAGE_LENGTH + 50)
  await buyer.locator('textarea').fill(long)
  t.equal((await buyer.locator('textarea').inputValue()).length, long.length, 'the whole paste is kept')
  t.equal(await counter.getAttribute('class'), 'counter over', 'over the limit, in red')
  await buyer.locator('textarea').press('Enter')
  await buyer.locator('.panel .err', { hasText: 'too long' }).waitFor()
  t.equal((await buyer.locator('textarea').inputValue()).length, long.length, 'nothing sent, nothing lost')
})

t.test('links are clickable and safe; days are separated; times in the locale format', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'See https://example.com/bike?x=1 and javascript:alert(1) or <a href="javascript:x">y</a>')
  const msg = buyer.locator('.msg.mine[data-seq="1"]')
  await msg.waitFor()
  const links = msg.locator('a')
  t.equal(await links.count(), 1, 'one link')
  t.equal(await links.getAttribute('href'), 'https://example.com/bike?x=1')
  t.equal(await links.getAttribute('rel'), 'noopener noreferrer nofollow ugc')
  t.equal(await links.getAttribute('target'), '_blank')
  t.match(await msg.locator('.txt').textContent(), 'javascript:alert(1)', 'the javascript: text stays text')
  t.equal(await buyer.locator('.panel .day').first().textContent(), 'Today', 'a day separator above today\'s messages')
  t.match(await msg.locator('time').textContent(), /^([1-9]|1[0-2]):\d\d\s?(AM|PM)$/, 'English time without a leading zero')
})
