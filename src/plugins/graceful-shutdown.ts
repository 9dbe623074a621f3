// Owns draining on close: responses finished during shutdown end their keep-alive connections, so the server can stop.
import fp from 'fastify-plugin'

export default fp(async (app) => {
  let closing = false
  // Node closes idle keep-alive connections once, when close starts; a connection whose request was still in flight then
  // would otherwise stay open until the client or keepAliveTimeout ends it, holding the shutdown past its bound.
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close')
  })
  app.addHook('onResponse', async () => {
    if (closing) app.server.closeIdleConnections()
  })
}, { name: 'graceful-shutdown' })
