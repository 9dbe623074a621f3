// Owns serving the embeddable front-end (static/chat.js, static/seller-chats.js) and, in demo mode, the demo pages.
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { staticDir } from '../paths.js'

const staticRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  // Host pages load the widget on every view: let browsers keep it an hour and revalidate by ETag after that.
  await app.register(fastifyStatic, {
    root: staticDir,
    prefix: '/static/',
    etag: true,
    maxAge: '1h',
    index: false,
    // chat.js.br / chat.js.gz, written by npm run build:web: the browser gets br or gzip as it asks (Vary: Accept-Encoding).
    preCompressed: true,
    allowedPath: (pathName) => config.demo || !pathName.startsWith('/demo')
  })

  if (!config.demo) return

  app.get('/demo', async (_request, reply) => await reply.redirect('/demo/'))
  app.get('/demo/', async (_request, reply) => await reply.sendFile('demo/index.html'))
  app.get('/demo/seller', async (_request, reply) => await reply.sendFile('demo/seller.html'))
}

export default staticRoutes
