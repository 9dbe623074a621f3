// The endpoints the docs name are the routes the app registers: nothing documented that does not exist, and every
// route in the API description documented somewhere in docs/.
import t from 'tap'
import type { Tokens } from 'marked'
import { buildTestApp, testConfig } from '../fixtures/app.js'
import { allTokens, docPaths, loadDoc, missingFrom } from '../fixtures/markdown.js'

// Demo mode on: the docs also name its routes (POST /demo/token).
const app = await buildTestApp(t, testConfig(t, { DEMO_MODE: 'true' }))

/** `GET /api/chat/chats/:id`, from code spans such as `GET /api/chat/ws/:chat_id?token=<token>[&after_seq=<n>]`. */
function documentedEndpoints (): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const path of docPaths()) {
    for (const token of allTokens(loadDoc(path).tokens)) {
      if (token.type !== 'codespan') continue
      const match = /^(GET|POST|PUT|PATCH|DELETE) (\/[^\s?[`]*)/.exec((token as Tokens.Codespan).text)
      if (match === null) continue
      const endpoint = `${match[1] as string} ${match[2] as string}`
      found.set(endpoint, [...(found.get(endpoint) ?? []), path])
    }
  }
  return found
}

t.test('every endpoint the docs name is a registered route', async (t) => {
  const documented = documentedEndpoints()
  t.ok(documented.size >= 15, `${documented.size} endpoints named in the docs`)
  const unknown = [...documented].filter(([endpoint]) => {
    const [method, url] = endpoint.split(' ') as [string, string]
    return !app.hasRoute({ method: method as 'GET', url })
  }).map(([endpoint, paths]) => `${endpoint} (in ${[...new Set(paths)].join(', ')})`)
  t.same(unknown, [], 'documented endpoints the app does not register')
})

t.test('every route in the API description is documented', async (t) => {
  const spec = app.swagger() as { paths: Record<string, Record<string, unknown>> }
  const described = Object.entries(spec.paths).flatMap(([path, operations]) =>
    Object.keys(operations).filter((method) => method !== 'head' && method !== 'options')
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
    // The demo pages are for people with a browser; the docs give them as URLs (http://localhost:4000/demo/).
    .filter((endpoint) => !endpoint.startsWith('GET /demo'))
  t.ok(described.some((endpoint) => endpoint.startsWith('GET /api/chat/ws/')), 'the WebSocket endpoints are in the description')
  t.same(missingFrom(described, documentedEndpoints().keys()), [], 'routes no page in docs/ names as `METHOD /path`')
})
