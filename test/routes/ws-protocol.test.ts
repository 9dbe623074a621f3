// The WebSocket protocol suite against one instance: buyer and seller (and all their tabs) on the same app.
import t from 'tap'
import { listenTestApp, testConfig } from '../fixtures/app.js'
import { protocolSuite } from '../fixtures/protocol-suite.js'

protocolSuite(t, async (t, env = {}) => {
  const { app, wsUrl } = await listenTestApp(t, testConfig(t, env))
  const side = { wsUrl, app }
  return { apps: [app], buyer: side, seller: side }
})
