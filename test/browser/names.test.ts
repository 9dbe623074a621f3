// People by the names they recognize (#14): the buyer's widget names the seller from the seller's marketplace token,
// and the seller's inbox calls a guest "Buyer N" in the page's own language.
import t from 'tap'
import { noChromium, openBuyerChat, SELLER_ID, sendMessage, startHarness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'

interface Chat { id: string }

t.test('the buyer sees the seller\'s name; a Russian seller page says "Покупатель 1"', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'Is the bike still for sale?')
  await buyer.locator('.msg.mine[data-seq="1"]').waitFor()

  // The seller answers from the marketplace's own app, whose token carries their name.
  const anna = registeredUser(SELLER_ID, { name: 'Anna Petrova' })
  const { chats } = await h.rest<{ chats: Chat[] }>(anna.token, 'GET', '/chats/my?role=seller')
  await h.rest(anna.token, 'POST', `/chats/${chats[0]?.id ?? ''}/messages`, { message_text: 'Yes, it is', client_message_id: 'anna-1' })
  await buyer.locator('.msg:not(.mine)[data-seq="2"]').waitFor()
  await buyer.reload()
  await buyer.locator('.msg:not(.mine)[data-seq="2"]').waitFor()
  t.match(await buyer.locator('.panel .sub').textContent(), /^Anna Petrova · /, 'the conversation is with Anna, not "Seller"')
  t.match(await buyer.locator('.msg:not(.mine)[data-seq="2"]').textContent(), /^Anna Petrova: /, 'and screen readers hear her name on her messages')

  const { page: sellerPage } = await h.open()
  await sellerPage.addInitScript('document.addEventListener("DOMContentLoaded", () => { document.documentElement.lang = "ru" })')
  await sellerPage.goto(h.url + '/demo/seller')
  const who = sellerPage.locator('.chat .who')
  await who.waitFor()
  t.match(await who.textContent(), /^Покупатель 1/, 'the guest\'s number in the seller\'s language (the service\'s label is English)')
})
