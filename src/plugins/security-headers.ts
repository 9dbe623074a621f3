// Owns the security headers on every response: a strict CSP for the service's own pages, and widget files loadable cross-origin.
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/** Where the widget's files are served; marketplaces embed them from their own origins. */
const STATIC_PREFIX = '/static'

export default fp(async (app) => {
  // A marketplace page loads /static/chat.js with a plain <script> tag, which same-origin CORP would block.
  // Added before helmet so helmet's own onRoute hook picks the route option up.
  app.addHook('onRoute', (route) => {
    if (route.url === STATIC_PREFIX || route.url.startsWith(`${STATIC_PREFIX}/`)) {
      route.helmet = { crossOriginResourcePolicy: { policy: 'cross-origin' } }
    }
  })

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      // Fits /docs and the demo pages: scripts and styles from this origin only (no inline scripts), WebSockets back to it.
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'connect-src': ["'self'"],
        'font-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'self'"],
        // blob: is the widget's preview of a photo being uploaded (made from the file on the page itself).
        'img-src': ["'self'", 'data:', 'blob:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        // Swagger UI and the widget set inline styles; styles cannot run code.
        'style-src': ["'self'", "'unsafe-inline'"]
      }
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    // The API is called cross-origin by design (CORS decides who); the referrer only leaks page URLs.
    referrerPolicy: { policy: 'no-referrer' }
  })
}, { name: 'security-headers' })
