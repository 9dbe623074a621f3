// Every relative link in README.md, CONTRIBUTING.md and docs/ reaches a file that exists and, with a #fragment, a
// heading GitHub gives that anchor; and the README stays a front page, not the reference, with the benchmark's
// headline table as docs/performance.md has it.
import { existsSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import t from 'tap'
import type { Tokens } from 'marked'
import { projectRoot } from '../fixtures/child-server.js'
import { allTokens, docPaths, loadDoc, tableIn, type Doc } from '../fixtures/markdown.js'

const docs = new Map<string, Doc>(docPaths().map((path) => [path, loadDoc(path)]))

/** Link targets in a page: Markdown links and images (inline or by reference), and href/src of inline HTML. */
function targets (doc: Doc): string[] {
  const found: string[] = []
  for (const token of allTokens(doc.tokens)) {
    if (token.type === 'link' || token.type === 'image') found.push((token as Tokens.Link).href)
    if (token.type === 'html') {
      for (const match of (token as Tokens.HTML).text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/gi)) found.push(match[1] as string)
    }
  }
  return found
}

/** Why a relative target is broken, or null when it resolves. */
function brokenBecause (from: Doc, target: string): string | null {
  const hash = target.indexOf('#')
  const file = decodeURIComponent(hash === -1 ? target : target.slice(0, hash))
  const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1))
  const path = file === '' ? from.path : normalize(join(dirname(from.path), file))
  if (path.startsWith('..')) return 'points outside the repository'
  if (!existsSync(join(projectRoot, path))) return `${path} does not exist`
  if (anchor === null) return null
  if (!path.endsWith('.md') || statSync(join(projectRoot, path)).isDirectory()) return `#${anchor} on a file that is not Markdown`
  const doc = docs.get(path) ?? loadDoc(path)
  return doc.headings.some((heading) => heading.slug === anchor) ? null : `${path} has no heading with the anchor #${anchor}`
}

const external = /^[a-z][a-z0-9+.-]*:/i

t.test('every relative link and anchor resolves', async (t) => {
  t.ok(docs.size >= 8, `checked ${[...docs.keys()].join(', ')}`)
  let checked = 0
  const broken: string[] = []
  for (const doc of docs.values()) {
    for (const target of targets(doc)) {
      if (external.test(target) || target.startsWith('//')) continue
      checked++
      const reason = brokenBecause(doc, target)
      if (reason !== null) broken.push(`${doc.path}: (${target}) ${reason}`)
    }
  }
  t.ok(checked > 50, `${checked} relative links checked`)
  t.same(broken, [], 'broken links')
})

t.test('the checker itself catches a missing file and a missing anchor', async (t) => {
  const readme = docs.get('README.md') as Doc
  t.equal(brokenBecause(readme, 'docs/api.md#error-codes'), null)
  t.match(brokenBecause(readme, 'docs/nowhere.md'), /does not exist/)
  t.match(brokenBecause(readme, 'docs/api.md#no-such-heading'), /no heading with the anchor/)
  t.match(brokenBecause(readme, '#no-such-heading'), /README\.md has no heading/)
})

t.test('headings get the anchors GitHub gives them', async (t) => {
  const api = docs.get('docs/api.md') as Doc
  const slugs = api.headings.map((heading) => heading.slug)
  t.ok(slugs.includes('post-apichatchatsidmessages-send-a-message'), 'code spans and punctuation')
  t.ok(slugs.includes('walkthrough-anonymous-buyer--chat--message--the-seller-reads-it'), 'arrows drop, their spaces stay')
})

t.test('the README is a front page: at most 250 lines, and the reference lives in docs/', async (t) => {
  const readme = docs.get('README.md') as Doc
  const lines = readme.source.split('\n').length
  t.ok(lines <= 250, `README.md has ${lines} lines`)
  for (const page of ['api.md', 'websocket.md', 'widget.md', 'deploying.md', 'performance.md']) {
    t.ok(targets(readme).includes(`docs/${page}`), `README links docs/${page}`)
  }
})

t.test("the README's benchmark table is the one in docs/performance.md", async (t) => {
  const headline = tableIn(docs.get('README.md') as Doc, 'Performance').map((row) => row.text)
  const results = tableIn(docs.get('docs/performance.md') as Doc, 'Latest results').map((row) => row.text)
  t.ok(headline.length >= 5)
  t.same(headline, results, 'update both tables together')
})
