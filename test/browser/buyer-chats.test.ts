// The buyer's launcher counts unread messages over all the buyer's chats (issue #13 §2): the bike/lamp story, live and
// after a reload, and the list of chats the launcher opens, from which any chat opens.
import t from 'tap'
import type { Page } from 'playwright-core'
import { eventually, noChromium, openBuyerChat, seller, sendMessage, startHarness, type Harness } from '../fixtures/browser.js'

interface Summary { id: string, listing_id: string, unread_count: number }

/** The buyer page's anonymous token, as the widget stored it. */
async function buyerToken (page: Page): Promise<string> {
  return await page.evaluate('JSON.parse(Object.entries(localStorage).find(([k]) => k.startsWith(\'mchat:anon:\'))[1]).token') as string
}

async function sellerChat (h: Harness, listing: string): Promise<string> {
  const { chats } = await h.rest<{ chats: Summary[] }>(seller.token, 'GET', '/chats/my?role=seller')
  const chat = chats.find((c) => c.listing_id === listing)
  if (!chat) throw new Error(`no chat about ${listing}`)
  return chat.id
}

/** The bike chat, then the lamp chat (left open), from one anonymous buyer: the story of the issue. */
async function askAboutBikeAndLamp (h: Harness, buyer: Page): Promise<{ bike: string, lamp: string }> {
  await openBuyerChat(buyer, h.url, 'bike-42')
  await sendMessage(buyer, 'Is the bike still for sale?')
  await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
  await buyer.locator('.panel textarea').press('Escape')
  await buyer.click('[data-chat-listing="lamp-7"]')
  await buyer.locator('.panel .name', { hasText: 'Brass desk lamp' }).waitFor()
  await sendMessage(buyer, 'And the lamp?')
  await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()
  return { bike: await sellerChat(h, 'bike-42'), lamp: await sellerChat(h, 'lamp-7') }
}

t.test('a reply in the bike chat while the lamp chat is open shows as 1 unread, live and after a reload', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  const { bike, lamp } = await askAboutBikeAndLamp(h, buyer)

  await h.rest(seller.token, 'POST', `/chats/${bike}/messages`, { message_text: 'Yes, the bike is still here' })
  // The lamp chat stays open: its Back button tells of the other chat's reply.
  const back = buyer.locator('.panel .back[data-n="1"]')
  await back.waitFor()
  t.equal(await back.getAttribute('aria-label'), 'Chats, 1 unread', 'the Back button says so to screen readers too')
  t.equal(await buyer.locator('.panel .msg .txt', { hasText: 'bike is still here' }).count(), 0, 'the lamp chat shows only its own messages')

  await buyer.locator('.panel textarea').press('Escape')
  const launcher = buyer.locator('.launcher')
  await launcher.locator('.badge', { hasText: '1' }).waitFor()
  t.equal(await launcher.getAttribute('aria-label'), 'Chats, 1 unread', 'the launcher\'s accessible name says the count')

  await buyer.reload()
  await launcher.locator('.badge', { hasText: '1' }).waitFor()
  t.equal(await launcher.getAttribute('aria-label'), 'Chats, 1 unread', 'still 1 unread after the reload')
  const mine = await h.rest<Summary>(await buyerToken(buyer), 'GET', `/chats/${bike}`)
  t.equal(mine.unread_count, 1, 'and the service agrees')

  // With the panel closed, a reply in the lamp chat adds to the total, live.
  await h.rest(seller.token, 'POST', `/chats/${lamp}/messages`, { message_text: 'The lamp too' })
  await launcher.locator('.badge', { hasText: '2' }).waitFor()
  t.equal(await launcher.getAttribute('aria-label'), 'Chats, 2 unread')
})

t.test('after a reload the launcher opens the buyer\'s chats, newest first, and any of them opens from the list', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  const { bike } = await askAboutBikeAndLamp(h, buyer)
  await buyer.locator('.panel textarea').press('Escape')
  await h.rest(seller.token, 'POST', `/chats/${bike}/messages`, { message_text: 'Yes, the bike is still here' })
  await buyer.locator('.launcher .badge', { hasText: '1' }).waitFor()

  await buyer.reload()
  await buyer.locator('.launcher .badge', { hasText: '1' }).waitFor()
  await buyer.locator('.launcher').click()
  const rows = buyer.locator('.panel .row')
  await rows.nth(1).waitFor()
  t.same(await rows.locator('.lt').allTextContents(), ['Vintage road bicycle', 'Brass desk lamp'], 'both chats, the newest activity first')
  t.same(await rows.locator('.prev').allTextContents(), ['Yes, the bike is still here', 'You: And the lamp?'], 'each with its last message')
  t.equal(await rows.nth(0).locator('.count').textContent(), '1', 'the bike chat has 1 unread')
  t.equal(await rows.nth(1).locator('.count').count(), 0, 'the lamp chat has none')
  t.match(await rows.nth(0).textContent(), /1 unread/, 'the count is spoken too')
  t.equal(await buyer.evaluate('document.querySelector("market-chat-widget").shadowRoot.activeElement?.dataset.chatId'), bike, 'focus is on the first chat')

  await rows.nth(0).click()
  await buyer.locator('.panel .msg .txt', { hasText: 'bike is still here' }).waitFor()
  t.equal(await buyer.locator('.panel .name').textContent(), 'Vintage road bicycle', 'the bike chat is open')
  const token = await buyerToken(buyer)
  await eventually('the buyer has read the bike chat', async () => (await h.rest<Summary>(token, 'GET', `/chats/${bike}`)).unread_count === 0)

  // Back to the list, then the lamp chat; closing shows the launcher without a count.
  await buyer.locator('.panel .back').click()
  await rows.nth(1).waitFor()
  await rows.locator('.count').waitFor({ state: 'detached' })
  await rows.filter({ hasText: 'Brass desk lamp' }).click()
  await buyer.locator('.panel .msg .txt', { hasText: 'And the lamp?' }).waitFor()
  await buyer.locator('.panel textarea').press('Escape')
  await buyer.locator('.launcher').waitFor()
  t.equal(await buyer.locator('.launcher .badge').isHidden(), true, 'nothing unread')
  t.equal(await buyer.locator('.launcher').getAttribute('aria-label'), 'Chats')
})

t.test('the launcher\'s name is localized', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await buyer.addInitScript('window.ChatConfig = { lang: "uk" }')
  const { bike } = await askAboutBikeAndLamp(h, buyer)
  await buyer.locator('.panel textarea').press('Escape')
  await h.rest(seller.token, 'POST', `/chats/${bike}/messages`, { message_text: 'Так' })
  await buyer.locator('.launcher .badge', { hasText: '1' }).waitFor()
  t.equal(await buyer.locator('.launcher').getAttribute('aria-label'), 'Чати, непрочитаних: 1')
})

// static/chat-sw.js opens `<scope>?chat=<id>` when a notification is clicked and no tab of the site is open.
t.test('a page opened at ?chat=<id> (a clicked notification) opens that chat, for the buyer and for the seller', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { context, page: buyer } = await h.open()
  const { bike, lamp } = await askAboutBikeAndLamp(h, buyer) // the lamp chat is the one left open
  await h.rest(seller.token, 'POST', `/chats/${bike}/messages`, { message_text: 'Yes, the bike is still here' })

  const fresh = await context.newPage()
  await fresh.goto(`${h.url}/demo/?chat=${encodeURIComponent(bike)}`)
  await fresh.locator('.panel .msg .txt', { hasText: 'bike is still here' }).waitFor()
  t.equal(await fresh.locator('.panel .name').textContent(), 'Vintage road bicycle', 'the notified chat is open, not the last one')

  const stranger = await h.open()
  await stranger.page.goto(`${h.url}/demo/?chat=${encodeURIComponent(lamp)}`)
  await stranger.page.locator('[data-chat-listing="lamp-7"]').waitFor()
  t.equal(await stranger.page.locator('.panel .msg').count(), 0, 'another browser\'s chat id opens nothing')

  const { page: sellerPage } = await h.open()
  await sellerPage.goto(`${h.url}/demo/seller?chat=${encodeURIComponent(lamp)}`)
  await sellerPage.locator('.msg .txt', { hasText: 'And the lamp?' }).waitFor()
  t.equal(await sellerPage.locator('.msg .txt', { hasText: 'bike is still here' }).count(), 0, 'the seller sees the lamp chat open')
})
