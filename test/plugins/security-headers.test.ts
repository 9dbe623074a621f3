// Security headers and cross-origin rules as a browser sees them: strict for the service's pages, open for the widget files.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { registeredUser } from '../fixtures/users.js'

const SHOP = 'https://shop.example.com'

t.test('every response carries the hardening headers and a CSP without inline scripts', async (t) => {
  const app = await buildTestApp(t)
  for (const url of ['/health', '/docs/', '/api/chat/unread-count']) {
    const response = await app.inject(url)
    t.equal(response.headers['x-content-type-options'], 'nosniff', url)
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN', url)
    t.equal(response.headers['cross-origin-resource-policy'], 'same-origin', url)
    const csp = String(response.headers['content-security-policy'])
    t.match(csp, /default-src 'self'/, url)
    t.match(csp, /script-src 'self';/, url)
    t.notMatch(csp, /script-src[^;]*unsafe-inline/, `${url}: no inline scripts`)
    t.match(csp, /object-src 'none'/, url)
  }
})

t.test('files under /static may be loaded by marketplace pages on other origins', async (t) => {
  const app = await buildApp(testConfig(t))
  t.teardown(async () => { await app.close() })
  // Stands in for the widget's static files, however they end up being served.
  await app.register(async (instance) => {
    instance.get('/static/probe.js', async (_request, reply) => await reply.type('text/javascript').send('void 0'))
  })
  await app.ready()
  const script = await app.inject({ url: '/static/probe.js', headers: { origin: SHOP } })
  t.equal(script.statusCode, 200)
  t.equal(script.headers['cross-origin-resource-policy'], 'cross-origin')
  t.equal(script.headers['x-content-type-options'], 'nosniff', 'the other headers stay')
  t.equal((await app.inject('/health')).headers['cross-origin-resource-policy'], 'same-origin', 'only /static is opened')
})

t.test('CORS answers only the origins in CORS_ORIGINS', async (t) => {
  const app = await buildTestApp(t, testConfig(t, { CORS_ORIGINS: `${SHOP},https://admin.example.com` }))
  const seller = registeredUser('seller-1')

  const allowed = await app.inject({ url: '/api/chat/unread-count', headers: { ...seller.headers, origin: SHOP } })
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.headers['access-control-allow-origin'], SHOP)
  t.match(String(allowed.headers['access-control-expose-headers']), /X-Request-Id/)

  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/chat/chats',
    headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], SHOP)
  t.match(String(preflight.headers['access-control-allow-headers']), /Authorization/)

  const stranger = await app.inject({ url: '/api/chat/unread-count', headers: { ...seller.headers, origin: 'https://evil.example.net' } })
  t.equal(stranger.headers['access-control-allow-origin'], undefined, 'no CORS grant for an unlisted origin')
  const strangerPreflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/chat/chats',
    headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' }
  })
  // Without Allow-Origin the browser refuses the call; the method list @fastify/cors still sends grants nothing.
  t.equal(strangerPreflight.headers['access-control-allow-origin'], undefined)
  t.equal(strangerPreflight.headers['access-control-allow-credentials'], undefined)
})

t.test('without CORS_ORIGINS no origin gets a CORS grant', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ url: '/health', headers: { origin: SHOP } })
  t.equal(response.headers['access-control-allow-origin'], undefined)
})
