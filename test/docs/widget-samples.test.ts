// The embed samples and the widget page name only what the scripts really read: attributes, ChatConfig options, the
// JavaScript entry points, CSS variables, languages and translated error codes; and the size table is current.
// A renamed option fails here instead of on a marketplace's page.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import type { Tokens } from 'marked'
import { errorStatus } from '../../src/errors.js'
import { projectRoot } from '../fixtures/child-server.js'
import { allTokens, loadDoc, missingFrom, section, tableIn, type Doc } from '../fixtures/markdown.js'

// The widgets' sources: every module under web/ (esbuild bundles them into static/chat.js and static/seller-chats.js).
const WIDGET_SOURCES = (readdirSync(join(projectRoot, 'web'), { recursive: true }) as string[])
  .filter((path) => path.endsWith('.ts')).map((path) => join('web', path)).sort()
const source = WIDGET_SOURCES.map((path) => readFileSync(join(projectRoot, path), 'utf8')).join('\n')
const localeIndex = readFileSync(join(projectRoot, 'web/locales/index.ts'), 'utf8')
const english = readFileSync(join(projectRoot, 'web/locales/en.ts'), 'utf8')

const widget = loadDoc('docs/widget.md')
const readme = loadDoc('README.md')

/** Code the page shows: fenced blocks and code spans. */
function code (doc: Doc): string[] {
  return [...allTokens(doc.tokens)].flatMap((token) =>
    token.type === 'code' ? [(token as Tokens.Code).text] : token.type === 'codespan' ? [(token as Tokens.Codespan).text] : [])
}

/** The keys of every `window.ChatConfig = { … }` in the samples (comments removed first). */
function chatConfigKeys (samples: string[]): string[] {
  const keys: string[] = []
  for (const sample of samples) {
    for (const match of sample.replace(/\/\/[^\n]*/g, '').matchAll(/window\.ChatConfig\s*=\s*\{/g)) {
      let depth = 1
      let end = (match.index ?? 0) + match[0].length
      const text = sample.replace(/\/\/[^\n]*/g, '')
      while (depth > 0 && end < text.length) {
        if (text[end] === '{') depth++
        if (text[end] === '}') depth--
        end++
      }
      const body = text.slice((match.index ?? 0) + match[0].length, end - 1)
      // Top-level keys only: a nested object's keys are not options.
      let level = 0
      let flat = ''
      for (const char of body) {
        if (char === '{' || char === '(') level++
        if (level === 0) flat += char
        if (char === '}' || char === ')') level--
      }
      for (const key of flat.matchAll(/(?:^|,)\s*(\w+)\s*:/g)) keys.push(key[1] as string)
    }
  }
  return keys
}

const samples = [...code(widget), ...code(readme)]

t.test('every data- attribute in the samples and the attribute table is one the scripts read', async (t) => {
  const named = new Set([
    ...samples.flatMap((text) => [...text.matchAll(/\b(data-[a-z-]+)/g)].map((match) => match[1] as string)),
    ...(widget.tokens.filter((token) => token.type === 'table') as Tokens.Table[])
      .flatMap((table) => table.rows.flatMap((row) => [...(row[0]?.text.matchAll(/`(data-[a-z-]+)`/g) ?? [])].map((match) => match[1] as string)))
  ])
  t.ok(named.has('data-chat-seller') && named.has('data-chat-listing'), `${named.size} attributes named`)
  t.same([...named].filter((name) => !source.includes(`'${name}'`) && !source.includes(`[${name}]`)), [], 'attributes the scripts never read')
})

t.test('every ChatConfig option is in the option table, and the scripts read each one', async (t) => {
  const options = tableIn(widget, 'Configuration').flatMap((row) => row.code[0] ?? [])
  const inSamples = chatConfigKeys(samples)
  t.ok(inSamples.length >= 6, `${inSamples.length} ChatConfig keys in the samples`)
  t.same(missingFrom(inSamples, options), [], 'ChatConfig keys in samples without a row in the option table')
  t.same(options.filter((option) => !new RegExp(`\\b(?:cfg|o|opts)\\.${option}\\b`).test(source)), [], 'options the scripts never read')
})

t.test('the JavaScript entry points and CSS variables the docs name exist', async (t) => {
  const text = samples.join('\n')
  const entryPoints = [...new Set([...text.matchAll(/window\.(chatManager|sellerChats|SellerChatsManager|MarketChat)(?:\.(\w+))?|new (SellerChatsManager)/g)]
    .flatMap((match) => [match[1], match[2], match[3]].filter((name): name is string => name !== undefined)))]
  t.ok(entryPoints.includes('chatManager') && entryPoints.includes('openChat'), `named: ${entryPoints.join(', ')}`)
  t.same(entryPoints.filter((name) => !new RegExp(`\\b${name}\\b`).test(source)), [], 'entry points the scripts do not define')
  const events = [...new Set([...text.matchAll(/\b(marketchat:[a-z]+)/g)].map((match) => match[1] as string))]
  t.ok(events.length >= 1, `events named: ${events.join(', ')}`)
  t.same(events.filter((name) => !source.includes(`'${name}'`)), [], 'window events the scripts never fire')
  const variables = [...new Set([...widget.source.matchAll(/(--mchat-[a-z-]+)/g)].map((match) => match[1] as string))]
  t.ok(variables.length >= 1)
  t.same(variables.filter((name) => !source.includes(`var(${name}`)), [], 'CSS variables the scripts never use')
})

t.test('the language table lists exactly the languages the scripts carry', async (t) => {
  const documented = tableIn(widget, 'Languages').flatMap((row) => row.code[0] ?? [])
  const table = /const TABLES: Record<string, Strings> = \{([^}]*)\}/.exec(localeIndex)?.[1] ?? ''
  const carried = [...table.matchAll(/\b([a-z]{2})\b/g)].map((match) => match[1] as string)
  t.ok(carried.length >= 3, `languages in web/locales/index.ts: ${carried.join(', ')}`)
  for (const lang of carried) t.ok(WIDGET_SOURCES.includes(join('web/locales', `${lang}.ts`)), `web/locales/${lang}.ts exists`)
  t.same(missingFrom(carried, documented), [], 'languages without a row in docs/widget.md#languages')
  t.same(missingFrom(documented, carried), [], 'documented languages the scripts do not carry')
})

t.test('the error codes the widget translates are the ones the Languages section lists', async (t) => {
  const listed = [...allTokens(section(widget, 'Languages'))].filter((token) => token.type === 'codespan')
    .map((token) => (token as Tokens.Codespan).text).filter((text) => text in errorStatus)
  const errors = /\n {2}e: \{([\s\S]*?)\n {2}\}/.exec(english)?.[1] ?? ''
  const translated = [...errors.matchAll(/(\w+): '/g)].map((match) => match[1] as string).filter((key) => key in errorStatus)
  t.ok(translated.length >= 5, `web/locales/en.ts translates ${translated.join(', ')}`)
  t.same(missingFrom(translated, listed), [], 'translated codes the Languages section does not list')
  t.same(missingFrom(listed, translated), [], 'listed codes the widget has no sentence for')
})

t.test('the size table is what the files weigh now, and so are the README\'s figures', async (t) => {
  const kb = (bytes: number): number => Math.round(bytes / 100) / 10
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8')
  for (const row of tableIn(widget, 'Sizes')) {
    const file = (row.text[0] ?? '').split(' ')[0] as string
    const bytes = readFileSync(join(projectRoot, file))
    const [raw, gzipped] = [row.text[1], row.text[2]].map((cell) => Number.parseFloat(cell ?? ''))
    t.equal(raw, kb(bytes.length), `${file}: ${bytes.length} bytes`)
    t.equal(gzipped, kb(gzipSync(bytes).length), `${file}: ${gzipSync(bytes).length} bytes gzipped`)
    const name = file.replace('static/', '')
    const inReadme = new RegExp('`' + name.replace('.', '\\.') + '` ([\\d.]+) KB').exec(readme.replace(/\s+/g, ' '))
    if (name === 'chat.js' || name === 'seller-chats.js') t.equal(Number(inReadme?.[1]), kb(gzipSync(bytes).length), `README: ${name} gzipped`)
  }
})
