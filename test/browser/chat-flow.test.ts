// A buyer and a seller talk through the real widgets in Chromium: live inbox, typing, read ticks, unread badge, reload.
import t from 'tap'
import { messageTexts, noChromium, openBuyerChat, screenshot, seller, sendMessage, startHarness } from '../fixtures/browser.js'

interface Summary { id: string, unread_count: number, buyer_id: string }

t.test('buyer and seller chat live through the demo pages', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.getByText('No conversations yet').waitFor()

  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Hello! Is the bike still available?')
  await buyer.locator('.msg.mine .tick[data-tick="sent"]').waitFor()

  // The seller's inbox was already open: the chat arrives through the inbox stream, under its listing, unread 1.
  const group = sellerPage.locator('.group[data-listing-id="bike-42"]')
  const row = group.locator('.chat')
  await row.locator('.count', { hasText: '1' }).waitFor()
  t.equal(await group.locator('h3 .lt').textContent(), 'Vintage road bicycle', 'grouped under the listing title')
  t.equal(await row.locator('.prev').textContent(), 'Hello! Is the bike still available?', 'last message preview')
  t.match(await row.locator('.who').textContent(), /\(guest\)$/, 'anonymous buyer labelled as a guest')
  t.equal(await sellerPage.locator('.group[data-listing-id="lamp-7"]').count(), 0, 'no other listing group')
  await row.locator('.dot.on').waitFor() // the buyer is online: the panel's socket is open
  const chatId = await row.getAttribute('data-chat-id')
  t.ok(chatId, 'the row carries the chat id')

  // Opening the chat reads it: the seller's count drops and the buyer sees the read tick.
  await row.click()
  await sellerPage.locator('.main .msg .txt', { hasText: 'Is the bike still available' }).waitFor()
  await row.locator('.count').waitFor({ state: 'detached' })
  await buyer.locator('.msg.mine .tick[data-tick="read"]').waitFor()
  const summary = await h.rest<Summary>(seller.token, 'GET', `/chats/${chatId}`)
  t.equal(summary.unread_count, 0, 'the service agrees the seller has read it')
  await buyer.locator('.panel .dot.on').waitFor() // the seller is online too

  // The seller types: the buyer sees "typing…" before the reply, then the reply, announced to screen readers.
  await sellerPage.locator('.main textarea').pressSequentially('Yes, it is', { delay: 20 })
  await buyer.locator('.panel .typing', { hasText: 'typing' }).waitFor()
  t.equal(await buyer.locator('.msg:not(.mine)').count(), 0, 'typing shows before any reply exists')
  await sellerPage.locator('.main textarea').press('Enter')
  await buyer.locator('.msg:not(.mine) .txt', { hasText: 'Yes, it is' }).waitFor()
  t.equal(await buyer.locator('.panel .typing').textContent(), '', 'typing line cleared by the reply')
  t.match(await buyer.locator('.panel .sr[aria-live]').textContent(), /Yes, it is/, 'the reply is announced')
  await screenshot(buyer, 'product-page-chat-desktop')
  await screenshot(sellerPage, 'seller-inbox-desktop', true)

  // Escape closes the panel and gives focus back to the Chat button; a message while closed badges the launcher.
  await buyer.locator('.panel textarea').press('Escape')
  await buyer.locator('.panel').waitFor({ state: 'hidden' })
  t.equal(await buyer.evaluate('document.activeElement.dataset.chatListing'), 'bike-42', 'focus is back on the Chat button')
  await sendMessage(sellerPage, 'I can hold it until Friday', '.main')
  await buyer.locator('.launcher .badge', { hasText: '1' }).waitFor()
  await buyer.locator('.launcher').click()
  await buyer.locator('.msg .txt', { hasText: 'until Friday' }).waitFor()
  await buyer.locator('.launcher .badge').waitFor({ state: 'hidden' })
  t.equal(await buyer.evaluate('document.activeElement.tagName'), 'MARKET-CHAT-WIDGET', 'focus moved into the panel')

  // A reload keeps the anonymous identity, the chat and its history.
  const before = await buyer.evaluate('JSON.stringify(Object.entries(localStorage).filter(([k]) => k.startsWith("mchat:anon:")))')
  await buyer.reload()
  await buyer.locator('.msg .txt', { hasText: 'until Friday' }).waitFor()
  t.same(await messageTexts(buyer), ['Hello! Is the bike still available?', 'Yes, it is', 'I can hold it until Friday'],
    'the whole history is back after the reload')
  t.equal(await buyer.evaluate('JSON.stringify(Object.entries(localStorage).filter(([k]) => k.startsWith("mchat:anon:")))'),
    before, 'same anonymous identity')
  await sendMessage(buyer, 'Great, see you Friday')
  await sellerPage.locator('.main .msg .txt', { hasText: 'see you Friday' }).waitFor()
  const chats = await h.rest<{ chats: Summary[], total: number }>(seller.token, 'GET', '/chats/my?role=seller')
  t.equal(chats.total, 1, 'the reload did not start a second chat')
})

t.test('the newest activity moves its chat and listing to the top of the inbox, live', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: sellerPage } = await h.open()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.getByText('No conversations yet').waitFor()
  const { page: bikeBuyer } = await h.open()
  const { page: lampBuyer } = await h.open()
  const groupOrder = async (): Promise<string[]> =>
    await sellerPage.locator('.group h3 .lt').allTextContents()

  await openBuyerChat(bikeBuyer, h.url, 'bike-42')
  await sendMessage(bikeBuyer, 'About the bike')
  await sellerPage.locator('.group').first().getByText('About the bike').waitFor()
  await openBuyerChat(lampBuyer, h.url, 'lamp-7')
  await sendMessage(lampBuyer, 'About the lamp')
  await sellerPage.locator('.group').first().getByText('About the lamp').waitFor()
  t.same(await groupOrder(), ['Brass desk lamp', 'Vintage road bicycle'], 'the new chat went to the top')

  await sendMessage(bikeBuyer, 'Still about the bike')
  await sellerPage.locator('.group').first().getByText('Still about the bike').waitFor()
  t.same(await groupOrder(), ['Vintage road bicycle', 'Brass desk lamp'], 'a new message moves its listing back up')
  const bike = sellerPage.locator('.group[data-listing-id="bike-42"]')
  await bike.locator('.chat .count', { hasText: '2' }).waitFor()
  t.equal(await bike.locator('h3 .count').textContent(), '2', 'the group count follows')
  t.equal(await sellerPage.locator('h2 .count').textContent(), '3', 'and the inbox total')
})
