// Right-to-left (issue #19 item 4), drafts (5), read only what was on screen with a "new messages" pill (6), the
// phone panel restored only where it was opened (8) and the embedder's theme, position and z-index (13).
import t from 'tap'
import { computedStyle, DESKTOP, eventually, screenshot, noChromium, openBuyerChat, PHONE, seller, sendMessage, startHarness } from '../fixtures/browser.js'

interface Chat { id: string, other_last_read_seq: number }

t.test('an English widget stays left-to-right on an RTL page; lang="he" mirrors it', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: en } = await h.open()
  await en.addInitScript('document.addEventListener("DOMContentLoaded", () => { document.body.style.direction = "rtl" })')
  await openBuyerChat(en, h.url)
  t.equal(await computedStyle(en, 'market-chat-widget >> .panel', 'direction'), 'ltr', 'the host page\'s direction stays out')
  await sendMessage(en, 'שלום, האופניים עדיין זמינים?')
  await en.locator('.msg.mine[data-seq]').waitFor()
  t.equal(await en.locator('.msg.mine .txt').getAttribute('dir'), 'auto', 'bubbles take the direction of their text')
  t.equal(await computedStyle(en, '.msg.mine .txt', 'direction'), 'rtl', 'a Hebrew message reads right to left')
  t.equal(await en.locator('.panel textarea').getAttribute('dir'), 'auto', 'and so does the text box')

  const { page: he } = await h.open()
  await he.addInitScript('window.ChatConfig = { lang: "he" }')
  await openBuyerChat(he, h.url)
  t.equal(await computedStyle(he, '.panel .conv', 'direction'), 'rtl', 'the UI itself mirrors')
  const box = await he.locator('.panel').boundingBox()
  t.ok(box !== null && box.x < 100, 'the panel sits in the left corner')
  await sendMessage(he, 'שלום! האם האופניים עדיין למכירה?')
  await he.locator('.msg.mine[data-seq]').waitFor()
  await screenshot(he, 'product-page-chat-hebrew') // the README's right-to-left picture
})

t.test('drafts are kept per chat across switching, Escape and reloads, in both widgets', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url, 'bike-42')
  await sendMessage(buyer, 'About the bike')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await buyer.evaluate('window.chatManager.openChat("demo-seller", "lamp-7")')
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  await sendMessage(buyer, 'About the lamp')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await buyer.locator('.panel textarea').fill('half-written buyer note')
  await buyer.reload()
  await buyer.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  t.equal(await buyer.locator('.panel textarea').inputValue(), 'half-written buyer note', 'buyer: the draft came back after a reload')

  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  const rows = sellerPage.locator('.chat')
  await rows.nth(1).waitFor()
  await rows.nth(0).click()
  await sellerPage.locator('.main textarea').fill('reply to the first')
  await rows.nth(1).click()
  t.equal(await sellerPage.locator('.main textarea').inputValue(), '', 'the other chat has its own (empty) draft')
  await sellerPage.locator('.main textarea').fill('reply to the second')
  await sellerPage.keyboard.press('Escape')
  await rows.nth(0).click()
  t.equal(await sellerPage.locator('.main textarea').inputValue(), 'reply to the first', 'seller: kept when switching chats')
  await sellerPage.reload()
  await sellerPage.locator('.chat').nth(1).click()
  t.equal(await sellerPage.locator('.main textarea').inputValue(), 'reply to the second', 'seller: kept over Escape and a reload')
})

t.test('a message is read only once it was on screen; a pill leads down to new ones', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, { RATE_LIMIT_API_PER_MINUTE: '100000' }) // the test polls the read pointer over REST
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'first')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()
  const { chats } = await h.rest<{ chats: Chat[] }>(seller.token, 'GET', '/chats/my?role=seller')
  const chatId = chats[0]?.id ?? ''
  for (let i = 1; i <= 30; i++) {
    await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: `line ${i}`, client_message_id: `l-${i}` })
  }
  await buyer.locator('.msg[data-seq="31"]').waitFor()
  const readSeq = async (): Promise<number> => (await h.rest<Chat>(seller.token, 'GET', `/chats/${chatId}`)).other_last_read_seq
  await t.resolves(eventually('at the bottom, everything is read', async () => await readSeq() >= 31))

  await buyer.locator('.panel .list').evaluate((el) => { el.scrollTop = 0 })
  await buyer.locator('.panel .list').evaluate((el) => new Promise((resolve) => { el.addEventListener('scroll', resolve, { once: true }); if (el.scrollTop === 0) resolve(null) }))
  await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: 'while you were reading', client_message_id: 'l-new' })
  await buyer.locator('.msg[data-seq="32"]').waitFor({ state: 'attached' })
  const pill = buyer.locator('.panel .pill')
  await pill.waitFor()
  t.equal(await pill.textContent(), 'New messages ↓', 'the pill says there is something new below')
  // A second, later message makes a round trip through the same socket: any read frame for 32 would be before it.
  await h.rest(seller.token, 'POST', `/chats/${chatId}/messages`, { message_text: 'and another', client_message_id: 'l-new2' })
  await buyer.locator('.msg[data-seq="33"]').waitFor({ state: 'attached' })
  t.equal(await readSeq(), 31, 'not read while scrolled up')
  await pill.click()
  await t.resolves(eventually('read once scrolled into view', async () => await readSeq() >= 33))
  t.ok(await pill.isHidden(), 'the pill is gone')
})

t.test('on a phone the panel reopens full screen only on the page where it was left open', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page } = await h.open(PHONE)
  // A second product page of the same site, with the same one-tag embed.
  await page.route('**/demo/other', async (route) => {
    await route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><p>Another page</p><script src="/static/chat.js"></script></body></html>' })
  })
  await openBuyerChat(page, h.url)
  await page.goto(h.url + '/demo/other')
  const launcher = page.locator('market-chat-widget >> .launcher')
  await launcher.waitFor()
  t.ok(await page.locator('market-chat-widget >> .panel').isHidden(), 'another page: collapsed to the launcher')
  await page.goto(h.url + '/demo/')
  await page.locator('.panel .status[data-state="open"]').waitFor({ state: 'attached' })
  t.ok(await page.locator('.panel').isVisible(), 'the page where it was opened: restored')

  const { page: desk } = await h.open(DESKTOP)
  await desk.route('**/demo/other', async (route) => {
    await route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><p>Another page</p><script src="/static/chat.js"></script></body></html>' })
  })
  await openBuyerChat(desk, h.url)
  await desk.goto(h.url + '/demo/other')
  await desk.locator('market-chat-widget >> .panel .conv').waitFor()
  t.ok(await desk.locator('market-chat-widget >> .panel').isVisible(), 'a desktop keeps the floating panel open across pages')
})

t.test('theming: --chat-accent, --chat-radius, position left and a configured z-index', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page } = await h.open()
  await page.addInitScript(`window.ChatConfig = { position: 'left', zIndex: 500 }
    document.addEventListener('DOMContentLoaded', () => {
      const s = document.createElement('style')
      s.textContent = 'market-chat-widget { --chat-accent: #7a1fa2; --chat-radius: 4px }'
      document.head.appendChild(s)
    })`)
  await openBuyerChat(page, h.url)
  await sendMessage(page, 'themed')
  await page.locator('.msg.mine[data-seq]').waitFor()
  t.equal(await computedStyle(page, '.msg.mine', 'backgroundColor'), 'rgb(122, 31, 162)', 'the accent colour')
  t.equal(await computedStyle(page, '.msg.mine', 'borderTopLeftRadius'), '4px', 'the radius')
  t.equal(await computedStyle(page, '.panel', 'zIndex'), '501', 'the panel one above the configured z-index')
  const box = await page.locator('.panel').boundingBox()
  t.ok(box !== null && box.x < 100, 'position left')
  await page.locator('.panel .close').click()
  t.equal(await computedStyle(page, 'market-chat-widget >> .launcher', 'zIndex'), '500', 'the launcher at the configured z-index')
})
