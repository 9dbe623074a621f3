// Owns parsing JSON bodies for every route: an empty body sent with Content-Type: application/json means no body.
import fp from 'fastify-plugin'

/**
 * Clients that set Content-Type: application/json on every call send it on bodiless ones too (anonymous session,
 * mark read, hide). Fastify would answer 400 for the empty JSON document; here it is no body at all, so a route
 * whose body is optional treats it as {} and a route that needs one still answers validation_failed.
 */
export default fp(async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text.trim() === '') {
      done(null, undefined)
      return
    }
    parseJson(request, text, done)
  })
}, { name: 'json-body' })
