// Hostile text stays text on both sides; errors are spoken, not swallowed; the phone layout; identity and language options.
import t from 'tap'
import { PHONE, messageTexts, noChromium, openBuyerChat, screenshot, seller, sendMessage, startHarness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'

interface Message { message_text: string }

// The service strips markup on the way in, but the sender's own pending bubble shows the raw text before the ack:
// that is where a markup-rendering client would run these.
const BUYER_PAYLOAD = 'look <img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script> "><svg onload="window.__xss=3">'
const SELLER_PAYLOAD = 'reply <img src=x onerror="window.__xss=4"><a href="javascript:window.__xss=5">click</a> https://evil.example'

t.test('script-like text from either side renders as text and runs nothing', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  const { page: sellerPage } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, BUYER_PAYLOAD)
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg').waitFor()
  await sendMessage(sellerPage, SELLER_PAYLOAD, '.main')
  await buyer.locator('.msg:not(.mine)').waitFor()
  await sellerPage.locator('.main .msg.mine[data-seq]').waitFor()

  // Whatever the service stored is exactly what both people see, as plain text.
  const chatId = await sellerPage.locator('.chat').getAttribute('data-chat-id')
  const stored = (await h.rest<{ messages: Message[] }>(seller.token, 'GET', `/chats/${chatId}/messages`)).messages
  t.equal(stored.length, 2, 'both messages stored')
  for (const page of [buyer, sellerPage]) {
    const texts = await messageTexts(page)
    t.same(texts, stored.map((m) => m.message_text), 'rendered text equals the stored text')
    // The only elements in a bubble: the screen-reader sender prefix, and links the widget built itself (#19).
    t.equal(await page.locator('.msg .txt *:not(.sr):not(a)').count(), 0, 'no elements were created from message text')
    t.equal(await page.locator('.chat .prev *').count(), 0, 'nor in the inbox preview')
    t.equal(await page.evaluate('typeof window.__xss'), 'undefined', 'nothing ran')
    const hrefs = await page.locator('market-chat-widget a, .market-chat-inbox a').evaluateAll((els) => els.map((a) => a.getAttribute('href')))
    t.same(hrefs, ['https://evil.example'], 'only the plain https text became a link; no javascript: link')
  }
})

t.test('a too-long message is refused with a clear error and kept in the input', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  const long = 'x'.repeat(2001)
  await sendMessage(buyer, long)
  await buyer.locator('.panel .err', { hasText: 'too long' }).waitFor()
  t.equal(await buyer.locator('.panel textarea').inputValue(), long, 'the text is not lost')
  t.equal(await buyer.locator('.msg').count(), 0, 'nothing was sent or queued')
  await sendMessage(buyer, 'short enough')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  t.ok(await buyer.locator('.panel .err').isHidden(), 'the error clears once a message goes through')
})

t.test('on a phone the panel is full-screen and the inbox shows one pane at a time', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open(PHONE)
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Hi from my phone')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  const box = await buyer.locator('.panel').boundingBox()
  t.same(box, { x: 0, y: 0, width: 390, height: 780 }, 'the panel covers the whole viewport')
  await screenshot(buyer, 'product-page-chat-phone')

  const { page: sellerPage } = await h.open(PHONE)
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat .count', { hasText: '1' }).waitFor()
  await screenshot(sellerPage, 'seller-inbox-phone', true)
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg .txt', { hasText: 'Hi from my phone' }).waitFor()
  t.ok(await sellerPage.locator('.side').isHidden(), 'the list gives way to the conversation')
  await screenshot(sellerPage, 'seller-inbox-phone-open', true)
  await sellerPage.locator('.main .back').click()
  await sellerPage.locator('.side').waitFor()
  t.ok(await sellerPage.locator('.main').isHidden(), 'back returns to the list')
})

t.test('a registered buyer chats as themselves, in the page language', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const me = registeredUser('buyer-olena')
  const { page: buyer } = await h.open()
  // What a marketplace page does for a signed-in user; Ukrainian comes from the option.
  await buyer.addInitScript(`window.ChatConfig = { token: ${JSON.stringify(me.token)}, lang: 'uk' }`)
  await openBuyerChat(buyer, h.url)
  t.equal(await buyer.locator('.panel textarea').getAttribute('placeholder'), 'Напишіть повідомлення…', 'Ukrainian strings')
  await sendMessage(buyer, 'Добрий день!')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  t.equal(await buyer.evaluate('Object.keys(localStorage).some(k => k.startsWith("mchat:anon:"))'), false,
    'no anonymous identity was minted')
  const chats = await h.rest<{ chats: Array<{ buyer_id: string, buyer_is_registered: boolean }> }>(seller.token, 'GET', '/chats/my?role=seller')
  t.same(chats.chats.map((c) => [c.buyer_id, c.buyer_is_registered]), [['buyer-olena', true]], 'the chat belongs to the registered user')
})
