// What the front-end puts on the wire is what the server accepts: every frame it builds passes the server's schemas,
// and the error codes it explains exist on the server.
import t from 'tap'
import { Compile } from 'typebox/compile'
import { errorStatus } from '../../src/errors.js'
import { ClientFrame } from '../../src/realtime/frames.js'
import { messageFrame, pingFrame, readFrame, typingFrame, authFrame } from '../../web/core/protocol.js'
import { en } from '../../web/locales/en.js'

const clientFrame = Compile(ClientFrame)

t.test('frames the widgets send validate against the server schema', async (t) => {
  const frames = {
    message: messageFrame('Hello, is it still available?', 'c-0123456789abcdef01234567'),
    typingOn: typingFrame(true),
    typingOff: typingFrame(false),
    read: readFrame(42),
    ping: pingFrame()
  }
  for (const [name, frame] of Object.entries(frames)) {
    t.ok(clientFrame.Check(JSON.parse(JSON.stringify(frame))), `${name}: ${JSON.stringify(frame)}`)
  }
  t.ok(clientFrame.Check(authFrame('tok')), 'auth frame passes the server schema')
})

t.test('every error code the widgets explain is one the server sends (or one of their own)', async (t) => {
  const own = ['network', 'generic', 'token_expired', 'cors', 'contact_info_masked']
  const unknown = Object.keys(en.e).filter((code) => !(code in errorStatus) && !own.includes(code))
  t.same(unknown, [], 'no text for a code nobody sends')
})
