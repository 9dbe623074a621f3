// The optional listing check against a marketplace endpoint (a tiny local server): verdicts, failures, timeout and cache.
import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createListingLookup } from '../../src/chat/listing-lookup.js'
import { AppError } from '../../src/errors.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { chatApi } from '../fixtures/chat-api.js'
import { anonymousBuyer, registeredUser } from '../fixtures/users.js'

// How the fake marketplace answers for each listing id; anything else is 404.
type Behaviour = { status: number, body: string } | 'hang' | 'reset'
const listings = new Map<string, Behaviour>()
const json = (status: number, body: unknown): Behaviour => ({ status, body: JSON.stringify(body) })
const hits = new Map<string, number>()
const paths: string[] = []
const hanging: ServerResponse[] = []

const server = createServer((request, response) => {
  const path = request.url ?? ''
  paths.push(path)
  const id = decodeURIComponent(path.replace(/^\/listings\//, ''))
  hits.set(id, (hits.get(id) ?? 0) + 1)
  const behaviour = listings.get(id) ?? json(404, { error: 'not found' })
  if (behaviour === 'hang') {
    hanging.push(response)
    return
  }
  if (behaviour === 'reset') {
    request.socket.destroy()
    return
  }
  response.writeHead(behaviour.status, { 'content-type': 'application/json' }).end(behaviour.body)
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
t.teardown(async () => {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
})
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/listings/{listing_id}`

const app = await buildTestApp(t, testConfig(t, {
  LISTING_LOOKUP_URL: base,
  LISTING_LOOKUP_TIMEOUT_MS: '2000',
  LISTING_LOOKUP_CACHE_SECONDS: '60',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000',
  RATE_LIMIT_CREATE_CHAT_PER_MINUTE: '1000'
}))

async function open (listingId: string, sellerId = 'lookup-seller') {
  return await chatApi(app, await anonymousBuyer(app)).openChat(listingId, sellerId)
}

t.test("the marketplace's verdict decides whether a chat may be opened", async (t) => {
  listings.set('active', json(200, { seller_id: 'lookup-seller', active: true }))
  listings.set('status-active', json(200, { seller_id: 'lookup-seller', status: 'active' }))
  listings.set('numeric-seller', json(200, { seller_id: 77, active: true }))
  listings.set('inactive', json(200, { seller_id: 'lookup-seller', active: false }))
  listings.set('sold', json(200, { seller_id: 'lookup-seller', status: 'sold' }))
  listings.set('someone-elses', json(200, { seller_id: 'another-seller', active: true }))
  listings.set('gone', json(410, {}))

  const cases: Array<[string, string, number, string | null]> = [
    ['active', 'lookup-seller', 201, null],
    ['status-active', 'lookup-seller', 201, null],
    ['numeric-seller', '77', 201, null],
    ['inactive', 'lookup-seller', 409, 'listing_inactive'],
    ['sold', 'lookup-seller', 409, 'listing_inactive'],
    ['someone-elses', 'lookup-seller', 403, 'seller_mismatch'],
    ['never-existed', 'lookup-seller', 404, 'listing_not_found'],
    ['gone', 'lookup-seller', 404, 'listing_not_found']
  ]
  for (const [listing, seller, status, code] of cases) {
    const reply = await open(listing, seller)
    t.equal(reply.status, status, listing)
    t.equal(reply.error?.code ?? null, code, listing)
  }
  const refused = await app.db.selectFrom('chats').select('listing_id')
    .where('listing_id', 'in', ['inactive', 'sold', 'someone-elses', 'never-existed', 'gone']).execute()
  t.same(refused, [], 'refused chats were not created')
})

t.test('a failing marketplace means 503, and failures are not cached', async (t) => {
  listings.set('flaky', json(500, { error: 'boom' }))
  listings.set('garbage', { status: 200, body: '<html>not json' })
  listings.set('reset', 'reset')
  listings.set('slow', 'hang')

  for (const listing of ['flaky', 'garbage', 'reset', 'slow']) {
    const reply = await open(listing)
    t.equal(reply.status, 503, listing)
    t.equal(reply.error?.code, 'listing_lookup_unavailable', listing)
  }
  t.equal(hanging.length, 1, 'the slow lookup was abandoned after the timeout')

  t.equal((await open('flaky')).status, 503)
  t.equal(hits.get('flaky'), 2, 'asked again: the failure was not cached')
  listings.set('flaky', json(200, { seller_id: 'lookup-seller', active: true }))
  t.equal((await open('flaky')).status, 201, 'works once the marketplace recovers')
})

t.test('answers are cached, and listing ids are escaped in the URL', async (t) => {
  listings.set('cached', json(200, { seller_id: 'lookup-seller', active: true }))
  t.equal((await open('cached')).status, 201)
  t.equal((await open('cached')).status, 201)
  t.equal(hits.get('cached'), 1, 'the second buyer was served from the cache')
  listings.set('cached', json(200, { seller_id: 'lookup-seller', active: false }))
  t.equal((await open('cached')).status, 201, 'within the cache lifetime the earlier answer stands')
  t.equal((await open('never-existed')).status, 404)

  listings.set('a/b c?d', json(200, { seller_id: 'lookup-seller', active: true }))
  t.equal((await open('a/b c?d')).status, 201)
  t.ok(paths.includes('/listings/a%2Fb%20c%3Fd'), 'one path segment, escaped')

  // Without a cache every call asks.
  const uncached = createListingLookup({ urlTemplate: base, timeoutMs: 300, cacheSeconds: 0 })
  const before = hits.get('cached') ?? 0
  t.match(await uncached('cached'), { exists: true, active: false, sellerId: 'lookup-seller' })
  t.match(await uncached('cached'), { exists: true })
  t.equal(hits.get('cached'), before + 2)
  await t.rejects(uncached('reset'), AppError)
})

t.test('a registered buyer is checked the same way', async (t) => {
  const buyer = chatApi(app, registeredUser('lookup-registered-buyer'))
  t.equal((await buyer.openChat('someone-elses', 'lookup-seller')).error?.code, 'seller_mismatch')
  t.equal((await buyer.openChat('active', 'lookup-seller')).status, 201)
})

t.test("the lookup's listing details are kept on the chat, checked, and shown to both sides", async (t) => {
  listings.set('detailed', json(200, {
    seller_id: 'lookup-seller',
    active: true,
    title: 'Bike <script>alert(1)</script>\n26"',
    price: 1200.5,
    currency: 'uah',
    image_url: 'https://img.example/bike.jpg',
    url: 'javascript:alert(1)'
  }))
  const buyer = chatApi(app, await anonymousBuyer(app))
  const opened = await buyer.openChat('detailed', 'lookup-seller')
  t.equal(opened.status, 201)
  t.same(opened.body.listing, { title: 'Bike 26"', price: '1200.5', currency: 'UAH', image_url: 'https://img.example/bike.jpg', url: null },
    'plain one-line title, price as text, only http(s) links')
  // A chat reaches the seller's inbox with its first message.
  t.equal((await buyer.send(opened.body.id, 'Is it still available?')).status, 201)
  const seller = registeredUser('lookup-seller')
  const grouped = (await chatApi(app, seller).grouped()).body
  const group = grouped.find((g) => g.listing_id === 'detailed')
  t.equal(group?.chats[0]?.listing.title, 'Bike 26"', 'the grouped inbox shows it too')
})

t.test('listing details are refreshed once older than LISTING_LOOKUP_CACHE_SECONDS, and never come from the buyer', async (t) => {
  const fresh = await buildTestApp(t, testConfig(t, { LISTING_LOOKUP_URL: base, LISTING_LOOKUP_CACHE_SECONDS: '0', LISTING_LOOKUP_TIMEOUT_MS: '5000' }))
  listings.set('renamed', json(200, { seller_id: 'lookup-seller', active: true, title: 'Old title' }))
  const buyer = await anonymousBuyer(fresh)
  const first = await chatApi(fresh, buyer).openChat('renamed', 'lookup-seller')
  t.equal(first.status, 201, JSON.stringify(first.body))
  t.equal(first.body.listing.title, 'Old title')
  listings.set('renamed', json(200, { seller_id: 'lookup-seller', active: true, title: 'New title', url: 'https://shop.example/renamed' }))
  const again = await chatApi(fresh, buyer).openChat('renamed', 'lookup-seller')
  t.match(again.body.listing, { title: 'New title', url: 'https://shop.example/renamed' })
  listings.set('renamed', json(500, {}))
  t.equal((await chatApi(fresh, buyer).openChat('renamed', 'lookup-seller')).body.listing.title, 'New title', 'a failed refresh keeps the last known')

  const noLookup = await buildTestApp(t)
  const guest = await anonymousBuyer(noLookup)
  const response = await noLookup.inject({
    method: 'POST',
    url: '/api/chat/chats',
    headers: guest.headers,
    payload: { listing_id: 'l-1', seller_id: 's-1', title: 'Pay here', url: 'https://phish.example', listing: { title: 'Pay here' } }
  })
  t.same(response.json().listing, { title: null, price: null, currency: null, image_url: null, url: null }, 'nothing from the request')
})
