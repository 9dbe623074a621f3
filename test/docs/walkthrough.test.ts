// The curl walkthrough in docs/api.md works as printed: run with bash against a live app, the seller ends up with
// the buyer's message, read.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import t from 'tap'
import type { Tokens } from 'marked'
import { listenTestApp, TEST_JWT_SECRET } from '../fixtures/app.js'
import { loadDoc, section } from '../fixtures/markdown.js'

const missingTools = ['/usr/bin/curl', '/usr/bin/jq'].filter((path) => !existsSync(path))
const skip = missingTools.length > 0 ? `needs ${missingTools.join(' and ')}` : false

const TITLE = 'Walkthrough: anonymous buyer → chat → message → the seller reads it'

t.test('the walkthrough runs as printed', { skip }, async (t) => {
  const block = section(loadDoc('docs/api.md'), TITLE).find((token): token is Tokens.Code => token.type === 'code')
  t.ok(block !== undefined && block.lang === 'sh', 'a sh block under the walkthrough heading')
  const script = block?.text ?? ''
  // The two placeholders a reader fills in: where the service runs and the secret it runs with.
  t.match(script, /^BASE=http:\/\/localhost:4000\/api\/chat$/m)
  t.match(script, /^export AUTH_JWT_SECRET=\.\.\..*$/m)
  const { url } = await listenTestApp(t)
  const runnable = script
    .replace(/^BASE=.*$/m, `BASE=${url}/api/chat`)
    .replace(/^export AUTH_JWT_SECRET=.*$/m, '')

  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', `${runnable}\necho\necho "CHAT_ID=$CHAT_ID"`], {
    env: { PATH: process.env.PATH, AUTH_JWT_SECRET: TEST_JWT_SECRET },
    timeout: 60_000
  })
  const chatId = /^CHAT_ID=(.*)$/m.exec(stdout)?.[1]
  t.match(chatId, /^[0-9a-f-]{36}$/, 'step 2 opened a chat')
  t.equal(stdout.split('"message_text":"Hi! Is it still available?"').length - 1, 2, 'step 3 sent the message and the seller reads it in the history (step 4)')
  t.match(stdout, '{"total":1,"chats":1}', 'the unread count the comment promises')
  t.match(stdout, `{"chat_id":"${chatId}","user_id":"seller-1","last_read_seq":1}`, 'the read pointer the comment promises')
})
