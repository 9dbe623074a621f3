// Block and report from the open chat's menu (#15): the other side sees the blocked state live and cannot send, an unblock lets them write again, a report reaches the moderators.
import t from 'tap'
import { messageTexts, noChromium, openBuyerChat, sendMessage, startHarness } from '../fixtures/browser.js'
import { registeredUser } from '../fixtures/users.js'

const moderator = registeredUser('mod-1', { roles: ['chat_moderator'] })

t.test('the seller blocks and unblocks from the menu; the buyer sees it live; a report reaches the moderators', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  const { page: sellerPage } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'is it still for sale?')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg').waitFor()

  // The seller blocks from the header menu.
  await sellerPage.getByRole('button', { name: 'Chat options' }).click()
  await sellerPage.getByRole('menuitem', { name: 'Block' }).click()
  await sellerPage.locator('.main .blk', { hasText: 'You blocked this person' }).waitFor()
  t.ok(await sellerPage.locator('.main textarea').isDisabled(), 'the blocker\'s composer is disabled')

  // The buyer's open widget hears it without a reload and cannot send.
  await buyer.locator('.panel .blk', { hasText: 'You can\'t reply in this chat' }).waitFor()
  t.ok(await buyer.locator('.panel textarea').isDisabled(), 'the buyer\'s composer is disabled')
  t.ok(await buyer.locator('.panel .send').isDisabled(), 'and so is Send')

  // The seller unblocks (the button in the notice); the buyer can write again, and the message arrives.
  await sellerPage.locator('.main .blk').getByRole('button', { name: 'Unblock' }).click()
  await sellerPage.locator('.main .blk').waitFor({ state: 'hidden' })
  await buyer.locator('.panel .blk').waitFor({ state: 'hidden' })
  t.ok(await buyer.locator('.panel textarea').isEnabled(), 'the buyer\'s composer is enabled again')
  await sendMessage(buyer, 'thanks for unblocking')
  await sellerPage.locator('.main .msg:not(.mine)', { hasText: 'thanks for unblocking' }).waitFor()
  t.same(await messageTexts(buyer), ['is it still for sale?', 'thanks for unblocking'], 'both messages stored and shown')

  // A report with a reason, from the same menu.
  await sellerPage.getByRole('button', { name: 'Chat options' }).click()
  await sellerPage.getByRole('menuitem', { name: 'Report' }).selectOption('scam')
  await sellerPage.locator('.main [aria-live]', { hasText: 'Report sent' }).waitFor({ state: 'attached' })
  const chatId = await sellerPage.locator('.chat').getAttribute('data-chat-id')
  const { reports } = await h.rest<{ reports: Array<{ chat_id: string, reason: string }> }>(moderator.token, 'GET', '/moderation/reports')
  t.match(reports, [{ chat_id: chatId, reason: 'scam' }], 'the moderators see the seller\'s report')
})

t.test('the buyer reports and blocks from the widget\'s menu; the seller then cannot reply', { skip: noChromium }, async (t) => {
  const h = await startHarness(t)
  const { page: buyer } = await h.open()
  const { page: sellerPage } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'is the bike still there?')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  await sellerPage.goto(h.url + '/demo/seller')
  await sellerPage.locator('.chat').click()
  await sellerPage.locator('.main .msg').waitFor()

  await buyer.getByRole('button', { name: 'Chat options' }).click()
  await buyer.getByRole('menuitem', { name: 'Report' }).selectOption('spam')
  await buyer.locator('.panel [aria-live]', { hasText: 'Report sent' }).waitFor({ state: 'attached' })
  const chatId = await sellerPage.locator('.chat').getAttribute('data-chat-id')
  const { reports } = await h.rest<{ reports: Array<{ chat_id: string, reason: string }> }>(moderator.token, 'GET', '/moderation/reports')
  t.match(reports, [{ chat_id: chatId, reason: 'spam' }], 'the moderators see the buyer\'s report')

  await buyer.getByRole('button', { name: 'Chat options' }).click()
  await buyer.getByRole('menuitem', { name: 'Block' }).click()
  await buyer.locator('.panel .blk', { hasText: 'You blocked this person' }).waitFor()
  await sellerPage.locator('.main .blk', { hasText: 'You can\'t reply in this chat' }).waitFor()
  t.ok(await sellerPage.locator('.main textarea').isDisabled(), 'the blocked seller\'s composer is disabled')
})

t.test('with CONTACT_FILTER=mask the sender sees their phone number hidden, and why', { skip: noChromium }, async (t) => {
  const h = await startHarness(t, { CONTACT_FILTER: 'mask' })
  const { page: buyer } = await h.open()
  await openBuyerChat(buyer, h.url)
  await sendMessage(buyer, 'call me on +1 415 555 0134 tonight')
  await buyer.locator('.msg.mine[data-seq]').waitFor()
  t.same(await messageTexts(buyer), ['call me on ••• tonight'], 'the bubble shows what was stored and delivered')
  const note = buyer.locator('.panel .err')
  await note.waitFor()
  t.match(await note.textContent(), /hidden/, 'and the widget says contact details are hidden')
  await sendMessage(buyer, 'ok, here then')
  await buyer.locator('.msg.mine[data-seq="2"]').waitFor()
  await note.waitFor({ state: 'hidden' })
  t.pass('the note goes with the next ordinary message')
})
