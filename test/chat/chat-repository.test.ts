// Chat identity: a registered buyer and an anonymous buyer with the same id are two people with two chats.
import t from 'tap'
import { buildTestApp, TEST_ANON_SECRET, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, forgedAnonymous, registeredUser } from '../fixtures/users.js'

const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' }))

t.test('a registered user whose id equals an anonymous buyer uuid opens a chat of their own', async (t) => {
  const anonymous = await anonymousBuyer(app)
  const anonChat = await chatApi(app, anonymous).openChat('listing-1', 'seller-collide-1')
  t.equal(anonChat.status, 201)
  t.equal(anonChat.body.buyer_label, 'Buyer 1')

  // The seller saw that uuid in their inbox and got a marketplace account with it.
  const lookalike = registeredUser(anonymous.id)
  const theirs = await chatApi(app, lookalike).openChat('listing-1', 'seller-collide-1')
  t.equal(theirs.status, 201, 'a new chat, not a 404 for someone else\'s')
  t.not(theirs.body.id, anonChat.body.id)
  t.match(theirs.body, { buyer_id: anonymous.id, buyer_is_registered: true, buyer_label: null, role: 'buyer' })

  await chatApi(app, anonymous).send(anonChat.body.id, 'from the anonymous buyer')
  const again = await chatApi(app, lookalike).openChat('listing-1', 'seller-collide-1')
  t.equal(again.status, 200)
  t.equal(again.body.id, theirs.body.id)
  t.equal(again.body.last_message, null, 'the anonymous buyer\'s messages stay in their own chat')
  const anonAgain = await chatApi(app, anonymous).openChat('listing-1', 'seller-collide-1')
  t.equal(anonAgain.body.id, anonChat.body.id)
  t.equal(anonAgain.body.last_message, 'from the anonymous buyer')

  await chatApi(app, lookalike).send(theirs.body.id, 'from the registered buyer')
  const inbox = await chatApi(app, registeredUser('seller-collide-1')).myChats()
  t.equal(inbox.body.chats.length, 2, 'the seller sees two buyers')
})

t.test('the other order: a registered buyer first, then an anonymous buyer with the same id', async (t) => {
  const registered = registeredUser('00000000-0000-4000-8000-00000000c011')
  const first = await chatApi(app, registered).openChat('listing-2', 'seller-collide-2')
  t.equal(first.status, 201)
  const anonymous = forgedAnonymous(registered.id, TEST_ANON_SECRET)
  const second = await chatApi(app, anonymous).openChat('listing-2', 'seller-collide-2')
  t.equal(second.status, 201)
  t.not(second.body.id, first.body.id)
  t.match(second.body, { buyer_is_registered: false, buyer_label: 'Buyer 1', role: 'buyer' })
})
