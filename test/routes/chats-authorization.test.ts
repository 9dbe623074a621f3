// Who may call what: every chat endpoint against participants, outsiders and every kind of bad token.
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { buildTestApp, TEST_ANON_SECRET, TEST_JWT_SECRET, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, forgedAnonymous, registeredUser, tamperedToken, type TestUser } from '../fixtures/users.js'

const LISTING = 'listing-7'
const NO_SUCH_CHAT = '00000000-0000-4000-8000-000000000000'

type Caller = 'buyer' | 'seller' | 'otherRegistered' | 'otherAnonymous'
const BAD_TOKENS = ['noToken', 'forged', 'expired', 'registeredSignedWithAnonSecret', 'anonymousSignedWithJwtSecret'] as const

// Expected outcome: a status, plus the error code for errors or a partial body for successes.
type Outcome = [number, string | object | null]

// One app for the whole file; each scenario gets its own seller and outsiders, so counts never mix.
const app = await buildTestApp(t, testConfig(t, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000' }))
let scenarios = 0

interface Context {
  chatId: string
  seller: string
  ids: Record<Caller, string>
}

interface Endpoint {
  name: string
  request: (ctx: Context) => InjectOptions
  expect: (ctx: Context) => Record<Caller, Outcome>
}

const notFound: Outcome = [404, 'chat_not_found']
const forbidden: Outcome = [403, 'forbidden']

// Ordered so that nothing a cell does changes what a later cell may do (hiding comes last).
const endpoints: Endpoint[] = [
  {
    name: 'POST /chats',
    request: ({ seller }) => ({ method: 'POST', url: '/api/chat/chats', payload: { listing_id: LISTING, seller_id: seller } }),
    expect: ({ ids }) => ({
      buyer: [200, { role: 'buyer', buyer_id: ids.buyer }],
      seller: [400, 'cannot_chat_with_self'],
      otherRegistered: [201, { role: 'buyer', buyer_id: ids.otherRegistered }],
      otherAnonymous: [201, { role: 'buyer', buyer_id: ids.otherAnonymous, buyer_is_registered: false }]
    })
  },
  {
    name: 'GET /chats/my',
    request: () => ({ url: '/api/chat/chats/my' }),
    expect: ({ ids, seller }) => ({
      buyer: [200, { total: 1, chats: [{ role: 'buyer', counterpart_id: seller }] }],
      seller: [200, { total: 0 }], // no chat has a message yet, so none is in the seller's inbox
      otherRegistered: [200, { total: 1, chats: [{ role: 'buyer', buyer_id: ids.otherRegistered }] }],
      otherAnonymous: [200, { total: 1, chats: [{ role: 'buyer', buyer_id: ids.otherAnonymous }] }]
    })
  },
  {
    name: 'GET /chats/seller/:seller_id/grouped',
    request: ({ seller }) => ({ url: `/api/chat/chats/seller/${seller}/grouped` }),
    expect: () => ({ buyer: forbidden, seller: [200, []], otherRegistered: forbidden, otherAnonymous: forbidden })
  },
  {
    name: 'GET /chats/:id',
    request: ({ chatId }) => ({ url: `/api/chat/chats/${chatId}` }),
    expect: ({ ids, seller }) => ({
      buyer: [200, { role: 'buyer', counterpart_id: seller }],
      seller: [200, { role: 'seller', counterpart_id: ids.buyer }],
      otherRegistered: notFound,
      otherAnonymous: notFound
    })
  },
  {
    name: 'POST /chats/:id/messages',
    request: ({ chatId }) => ({ method: 'POST', url: `/api/chat/chats/${chatId}/messages`, payload: { message_text: 'hello' } }),
    expect: ({ ids, seller }) => ({
      buyer: [201, { sender_id: ids.buyer, seq: 1 }],
      seller: [201, { sender_id: seller, sender_is_registered: true, seq: 2 }],
      otherRegistered: notFound,
      otherAnonymous: notFound
    })
  },
  {
    name: 'GET /chats/:id/messages',
    request: ({ chatId }) => ({ url: `/api/chat/chats/${chatId}/messages` }),
    expect: ({ ids, seller }) => {
      const both = { messages: [{ sender_id: ids.buyer }, { sender_id: seller }], has_more: false }
      return { buyer: [200, both], seller: [200, both], otherRegistered: notFound, otherAnonymous: notFound }
    }
  },
  {
    name: 'POST /chats/:id/read',
    request: ({ chatId }) => ({ method: 'POST', url: `/api/chat/chats/${chatId}/read` }),
    expect: ({ ids, seller }) => ({
      buyer: [200, { user_id: ids.buyer, last_read_seq: 2 }],
      seller: [200, { user_id: seller, last_read_seq: 2 }],
      otherRegistered: notFound,
      otherAnonymous: notFound
    })
  },
  {
    name: 'GET /unread-count',
    request: () => ({ url: '/api/chat/unread-count' }),
    expect: () => ({
      buyer: [200, { total: 0, chats: 0 }],
      seller: [200, { total: 0, chats: 0 }],
      otherRegistered: [200, { total: 0, chats: 0 }],
      otherAnonymous: [200, { total: 0, chats: 0 }]
    })
  },
  {
    name: 'DELETE /chats/:id',
    request: ({ chatId }) => ({ method: 'DELETE', url: `/api/chat/chats/${chatId}` }),
    expect: () => ({ buyer: [204, null], seller: [204, null], otherRegistered: notFound, otherAnonymous: notFound })
  }
]

async function setup (registeredBuyer: boolean) {
  const n = ++scenarios
  const sellerId = `seller-${n}`
  const seller = registeredUser(sellerId)
  const buyer = registeredBuyer ? registeredUser(`buyer-${n}`) : await anonymousBuyer(app)
  const created = await chatApi(app, buyer).openChat(LISTING, sellerId)
  if (created.status !== 201) throw new Error(`setup: ${created.status}`)
  const users: Record<Caller, TestUser> = {
    buyer,
    seller,
    otherRegistered: registeredUser(`outsider-${n}`),
    otherAnonymous: await anonymousBuyer(app)
  }
  const exp = Math.floor(Date.now() / 1000) + 3600
  const badTokens: Record<(typeof BAD_TOKENS)[number], Record<string, string>> = {
    noToken: {},
    // The buyer's genuine token rewritten to say it is the seller.
    forged: tamperedToken(buyer, { sub: sellerId, exp, ...(buyer.registered ? {} : { anon: true, iss: 'marketplace-chat/anonymous' }) }).headers,
    expired: registeredUser(sellerId, { expiresInSeconds: -60 }).headers,
    registeredSignedWithAnonSecret: registeredUser(sellerId, { secret: TEST_ANON_SECRET }).headers,
    anonymousSignedWithJwtSecret: forgedAnonymous(buyer.id, TEST_JWT_SECRET).headers
  }
  const ids = Object.fromEntries(Object.entries(users).map(([k, u]) => [k, u.id])) as Record<Caller, string>
  return { chatId: created.body.id, sellerId, users, badTokens, ctx: { chatId: created.body.id, seller: sellerId, ids } }
}

async function call (options: InjectOptions, headers: Record<string, string>) {
  const response = await app.inject({ ...options, headers: { ...headers } })
  return { status: response.statusCode, body: response.body === '' ? null : response.json() }
}

for (const registeredBuyer of [false, true]) {
  t.test(`authorization matrix (${registeredBuyer ? 'registered' : 'anonymous'} buyer)`, async (t) => {
    const { chatId, sellerId, users, badTokens, ctx } = await setup(registeredBuyer)
    const { ids } = ctx
    const missing = await call({ url: `/api/chat/chats/${NO_SUCH_CHAT}` }, users.otherRegistered.headers)

    for (const endpoint of endpoints) {
      const expected = endpoint.expect(ctx)
      // Bad tokens first: they must change nothing the participants' cells then observe.
      for (const bad of BAD_TOKENS) {
        const { status, body } = await call(endpoint.request(ctx), badTokens[bad])
        t.equal(status, 401, `${endpoint.name} × ${bad}: status`)
        t.equal(body?.error?.code, 'unauthorized', `${endpoint.name} × ${bad}: code`)
      }
      for (const caller of ['otherRegistered', 'otherAnonymous', 'buyer', 'seller'] as const) {
        const [wantStatus, want] = expected[caller]
        const { status, body } = await call(endpoint.request(ctx), users[caller].headers)
        const cell = `${endpoint.name} × ${caller}`
        t.equal(status, wantStatus, `${cell}: status`)
        if (typeof want === 'string') {
          t.equal(body?.error?.code, want, `${cell}: code`)
          // A chat the caller is not in answers exactly like a chat that does not exist.
          if (want === 'chat_not_found') t.same({ ...body.error, request_id: null }, { ...missing.body.error, request_id: null }, `${cell}: body`)
        } else if (want === null) {
          t.equal(body, null, `${cell}: no body`)
        } else {
          t.match(body, want, `${cell}: body`)
        }
      }
    }

    // Nothing the refused calls attempted was stored.
    const stored = await app.db.selectFrom('messages').select(['seq', 'sender_id']).where('chat_id', '=', chatId).orderBy('seq').execute()
    t.same(stored, [{ seq: 1, sender_id: ids.buyer }, { seq: 2, sender_id: sellerId }])
    const row = await app.db.selectFrom('chats').selectAll().where('id', '=', chatId).executeTakeFirstOrThrow()
    t.match(row, { last_seq: 2, buyer_last_read_seq: 2, seller_last_read_seq: 2, buyer_hidden: true, seller_hidden: true })
    const sellersChats = await app.db.selectFrom('chats').select((eb) => eb.fn.countAll().as('n')).where('seller_id', '=', sellerId).executeTakeFirstOrThrow()
    t.equal(Number(sellersChats.n), 3,
      'outsiders opened chats of their own and nothing else')
  })
}

t.test('seed-era parameters never decide identity', async (t) => {
  const { chatId, sellerId, users } = await setup(false)
  const { buyer, seller } = users
  const withQuery = (url: string, query: string): string => `${url}${url.includes('?') ? '&' : '?'}${query}`

  // [method, url, body]: every authenticated endpoint, with user_id placed where seed-era clients sent it.
  const requests: Array<[InjectOptions['method'], string, Record<string, unknown> | undefined]> = [
    ['POST', '/api/chat/chats', { listing_id: LISTING, seller_id: sellerId }],
    ['GET', '/api/chat/chats/my', undefined],
    ['GET', `/api/chat/chats/seller/${sellerId}/grouped`, undefined],
    ['GET', `/api/chat/chats/${chatId}`, undefined],
    ['GET', `/api/chat/chats/${chatId}/messages`, undefined],
    ['POST', `/api/chat/chats/${chatId}/messages`, { message_text: 'hi' }],
    ['POST', `/api/chat/chats/${chatId}/read`, {}],
    ['GET', '/api/chat/unread-count', undefined],
    ['DELETE', `/api/chat/chats/${chatId}`, undefined]
  ]
  for (const [method, url, body] of requests) {
    for (const [caller, claimed] of [[buyer, seller.id], [seller, buyer.id], [buyer, 'someone-else']] as const) {
      const options: InjectOptions = body === undefined
        ? { method, url: withQuery(url, `user_id=${encodeURIComponent(claimed)}`), headers: caller.headers }
        : { method, url, headers: caller.headers, payload: { ...body, user_id: claimed } }
      const response = await app.inject(options)
      t.equal(response.statusCode, 403, `${method} ${url} as ${caller === buyer ? 'buyer' : 'seller'} claiming ${claimed}`)
      t.equal(response.json().error.code, 'forbidden')
    }
  }
  const stored = await app.db.selectFrom('messages').select('seq').where('chat_id', '=', chatId).execute()
  t.same(stored, [], 'no refused send was stored')

  // Repeating one's own id is fine, and is_seller / sender_is_registered change nothing.
  const sent = await app.inject({
    method: 'POST',
    url: `/api/chat/chats/${chatId}/messages`,
    headers: buyer.headers,
    payload: { message_text: 'hi', user_id: buyer.id, is_seller: true, sender_is_registered: true }
  })
  t.equal(sent.statusCode, 201)
  t.match(sent.json(), { sender_id: buyer.id, sender_is_registered: false })
  const asSeller = await app.inject({ url: `/api/chat/chats/my?is_seller=true&user_id=${buyer.id}`, headers: buyer.headers })
  t.same(asSeller.json(), { chats: [], total: 0 }, 'an anonymous buyer is never a seller')
  const mine = await app.inject({ url: `/api/chat/chats/${chatId}?is_seller=true`, headers: buyer.headers })
  t.equal(mine.json().role, 'buyer')
  const sellerSide = await app.inject({ url: `/api/chat/chats/my?is_seller=true&user_id=${sellerId}`, headers: seller.headers })
  t.match(sellerSide.json(), { total: 1, chats: [{ id: chatId, role: 'seller' }] })
})

t.test('the token only ever comes from the Authorization header, and is checked before anything else', async (t) => {
  const { chatId, sellerId, users } = await setup(false)
  const { seller } = users
  const refused: InjectOptions[] = [
    { url: `/api/chat/unread-count?token=${seller.token}` },
    { url: `/api/chat/unread-count?access_token=${seller.token}` },
    { url: '/api/chat/unread-count', headers: { authorization: seller.token } },
    { url: '/api/chat/unread-count', headers: { authorization: `Basic ${seller.token}` } },
    { url: '/api/chat/unread-count', headers: { authorization: `Bearer ${seller.token} ${seller.token}` } },
    { url: '/api/chat/unread-count', headers: { authorization: 'Bearer' } },
    { method: 'POST', url: '/api/chat/chats', payload: { seller_id: sellerId, user_id: seller.id } },
    // Invalid input from someone without a token is still 401, not a validation error.
    { method: 'POST', url: '/api/chat/chats', payload: {} },
    { url: `/api/chat/chats/${chatId}/messages?limit=500` },
    { method: 'POST', url: `/api/chat/chats/${chatId}/messages`, payload: { message_text: '' } },
    { method: 'POST', url: `/api/chat/chats/${chatId}/read`, payload: { up_to_seq: -1 } },
    { url: '/api/chat/chats/my?role=admin' }
  ]
  for (const options of refused) {
    const response = await app.inject(options)
    t.equal(response.statusCode, 401, `${options.method ?? 'GET'} ${String(options.url)} ${JSON.stringify(options.headers ?? {})}`)
    t.equal(response.json().error.code, 'unauthorized')
  }
  const lowercase = await app.inject({ url: '/api/chat/unread-count', headers: { authorization: `bearer ${seller.token}` } })
  t.equal(lowercase.statusCode, 200, 'the scheme name is case-insensitive')
})

t.test('malformed chat ids answer like missing chats', async (t) => {
  const { users } = await setup(false)
  const api = chatApi(app, users.seller)
  const missing = await api.chat(NO_SUCH_CHAT)
  for (const id of ['not-a-uuid', '1', "1'%20or%20'1'='1", 'ffffffff-ffff-ffff-ffff-ffffffffffff']) {
    for (const reply of [await api.chat(id), await api.history(id), await api.send(id, 'x'), await api.read(id), await api.hide(id)]) {
      t.equal(reply.status, 404, id)
      t.same({ ...reply.error, request_id: null }, { ...missing.error, request_id: null })
    }
  }
})
