// The files the docs point readers to exist, and the npm scripts and bench scenarios they tell readers to run are
// ones the project has: a moved test or a renamed script fails here, not in a reader's terminal.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import t from 'tap'
import type { Tokens } from 'marked'
import { projectRoot } from '../fixtures/child-server.js'
import { allTokens, docPaths, loadDoc } from '../fixtures/markdown.js'

const docs = docPaths().map(loadDoc)
const codeSpans = docs.flatMap((doc) => [...allTokens(doc.tokens)]
  .filter((token) => token.type === 'codespan').map((token) => ({ path: doc.path, text: (token as Tokens.Codespan).text })))
const codeText = docs.flatMap((doc) => [...allTokens(doc.tokens)]
  .filter((token) => token.type === 'code' || token.type === 'codespan').map((token) => ({ path: doc.path, text: (token as Tokens.Code).text })))

// Paths in the repository, as code spans; generated folders (gitignored) and templates (<name>, NNNN) are not checked.
const REPO_PATH = /^(?:(?:src|test|bench|static|migrations|deploy|docs|\.ci)\/[\w./*-]*|Dockerfile|docker-compose(?:\.\w+)?\.yml|\.env\.example)$/
const GENERATED = ['test/artifacts/', 'bench/results/']

function exists (path: string): boolean {
  if (!path.includes('*')) return existsSync(join(projectRoot, path))
  const pattern = new RegExp(`^${basename(path).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`)
  const dir = join(projectRoot, dirname(path))
  return existsSync(dir) && readdirSync(dir).some((name) => pattern.test(name))
}

t.test('every repository path the docs name exists', async (t) => {
  const named = codeSpans.filter(({ text }) => REPO_PATH.test(text) && !GENERATED.some((prefix) => text.startsWith(prefix)) && !text.includes('NNNN'))
  t.ok(named.length >= 40, `${named.length} paths named`)
  t.same([...new Set(named.filter(({ text }) => !exists(text)).map(({ path, text }) => `${path}: ${text}`))], [], 'paths that do not exist')
})

t.test('every `npm run` script and bench scenario the docs name exists', async (t) => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)
  const benchRunner = readFileSync(join(projectRoot, 'bench/run.ts'), 'utf8')
  const wrong: string[] = []
  let runs = 0
  for (const { path, text } of codeText) {
    for (const match of text.matchAll(/npm run (\w[\w:-]*)(?: -- (\w[\w-]*))?/g)) {
      runs++
      const [, script, scenario] = match as unknown as [string, string, string | undefined]
      if (!scripts.includes(script)) wrong.push(`${path}: npm run ${script} (package.json has ${scripts.join(', ')})`)
      if (script === 'bench' && scenario !== undefined && !benchRunner.includes(`'${scenario}'`)) wrong.push(`${path}: bench scenario ${scenario} is not in bench/run.ts`)
    }
  }
  t.ok(runs >= 8, `${runs} npm run commands`)
  t.same(wrong, [], 'scripts and scenarios that do not exist')
})
