// /docs/json is a valid OpenAPI 3 document listing every HTTP route the app serves, and /docs renders it.
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { buildTestApp } from '../fixtures/app.js'

/** Every method + path the router knows, read from printRoutes' tree (Fastify has no route list API). */
function routerRoutes (tree: string): string[] {
  const path: string[] = []
  const routes: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^([│├└─ ]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (match === null) continue
    const depth = (match[1] ?? '').length / 4
    path.length = depth
    path.push(match[2] as string)
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) routes.push(`${method} ${path.join('')}`)
  }
  return routes
}

/** OpenAPI writes :id as {id}. */
const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}')

t.test('the generated document is valid OpenAPI 3 and covers every route', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject('/docs/json')
  t.equal(response.statusCode, 200)
  const doc = response.json()
  t.match(doc.openapi, /^3\./)
  await t.resolves(SwaggerParser.validate(structuredClone(doc)), 'passes the OpenAPI schema and reference checks')

  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
  const served = routerRoutes(app.printRoutes({ commonPrefix: false }))
    // HEAD mirrors GET and OPTIONS is the CORS preflight; /docs is the documentation itself.
    .filter((route) => !/^(HEAD|OPTIONS) /.test(route) && !/^\w+ \/docs/.test(route))
    .map((route) => openApiPath(route))
  t.ok(served.length >= 12, `the router listing was read (${served.length} routes)`)
  t.same(served.filter((route) => !documented.includes(route)), [], 'no route is missing from the document')
  for (const route of ['POST /api/chat/anonymous', 'POST /api/chat/chats/{id}/messages', 'GET /health', 'GET /ready', 'GET /metrics']) {
    t.ok(documented.includes(route), route)
  }
})

t.test('authenticated routes declare the bearer scheme; the WebSocket frames are described', async (t) => {
  const app = await buildTestApp(t)
  const doc = (await app.inject('/docs/json')).json()
  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  t.same(doc.paths['/api/chat/chats/{id}/messages'].post.security, [{ bearerAuth: [] }])
  t.same(doc.paths['/api/chat/unread-count'].get.security, [{ bearerAuth: [] }])
  t.equal(doc.paths['/api/chat/anonymous'].post.security, undefined, 'minting an anonymous session needs no token')
  t.match(doc.paths['/api/chat/chats/{id}/messages'].post.responses, { 201: {}, 401: {}, 404: {}, 429: {} })
  const socket = doc.paths['/api/chat/ws/{chat_id}'].get
  t.same(socket.tags, ['realtime'])
  t.same(socket.parameters.map((parameter: { name: string }) => parameter.name).sort(), ['after_seq', 'chat_id', 'token'])
  t.ok(socket.responses['101'])
  t.same(doc.paths['/api/chat/ws/inbox'].get.tags, ['realtime'])
  for (const frame of ['"type":"ack"', '"type":"history"', '"type":"chat_updated"', '"type":"error"', '1001']) {
    t.ok(doc.info.description.includes(frame), `description documents ${frame}`)
  }
})

t.test('/docs serves the Swagger UI under the service CSP', async (t) => {
  const app = await buildTestApp(t)
  const page = await app.inject('/docs/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /swagger-initializer\.js/)
  t.match(page.headers['content-security-policy'], /script-src 'self'(;|$)/)
  const script = await app.inject('/docs/static/swagger-initializer.js')
  t.equal(script.statusCode, 200)
  t.match(script.body, /\.\/json|docs\/json/)
})
