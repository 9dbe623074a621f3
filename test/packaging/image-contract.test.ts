// The Docker image's contract without a Docker engine: replays the Dockerfile's steps in temp folders and runs the result.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { cp, mkdir, readFile, readdir, symlink } from 'node:fs/promises'
import { basename, join, posix, relative, sep } from 'node:path'
import t from 'tap'
import { isolatedDatabase, productionEnv, projectRoot, run, startServer, tempDir } from '../fixtures/child-server.js'

// npm ci and tsc on a shared 2-core machine.
t.setTimeout(600_000)

interface Instruction { keyword: string, args: string }
interface Stage { from: string, name: string, instructions: Instruction[] }

/** Stages of a Dockerfile: continuation lines joined, comments dropped. */
function parseDockerfile (text: string): Stage[] {
  const stages: Stage[] = []
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', , name = ''] = args.split(/\s+/)
      stages.push({ from, name, instructions: [] })
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') })
    }
  }
  return stages
}

const all = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((instruction) => instruction.keyword === keyword)
const execForm = (args: string): string[] => JSON.parse(args.replace(/^.*?CMD\s+/, '')) as string[]

/** ENV K=V K2=V2 → a map (the only ENV form the Dockerfile uses). */
function envOf (stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of all(stage, 'ENV')) {
    for (const pair of args.split(' ')) {
      const [name = '', ...value] = pair.split('=')
      env[name] = value.join('=')
    }
  }
  return env
}

/** .dockerignore's patterns as tests on a context-relative path ('*' within a name; a folder excludes what is under it). */
function contextFilter (dockerignore: string): (relativePath: string) => boolean {
  const patterns = dockerignore.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
    .map((pattern) => new RegExp('^' + pattern.replace(/\/$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '(/|$)'))
  return (relativePath) => !patterns.some((pattern) => pattern.test(relativePath))
}

/** COPY [--from=stage] src... dest, resolved against the stage's WORKDIR and mirrored into `root`; the context honours .dockerignore. */
async function mirrorCopy (instruction: Instruction, root: string, workdir: string, stages: Record<string, { root: string, workdir: string }>, inContext: (relativePath: string) => boolean): Promise<void> {
  const parts = instruction.args.split(' ')
  const flags = parts.filter((part) => part.startsWith('--'))
  const paths = parts.filter((part) => !part.startsWith('--'))
  const dest = paths.pop() as string
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length)
  const source = from === undefined ? { root: projectRoot, workdir: '/' } : stages[from]
  if (source === undefined) throw new Error(`COPY from unknown stage ${String(from)}`)
  const destPath = join(root, posix.relative('/', posix.resolve(workdir, dest)))
  for (const path of paths) {
    const sourcePath = join(source.root, posix.relative('/', posix.resolve(source.workdir, path)))
    if (!existsSync(sourcePath)) throw new Error(`COPY ${path}: not there, so docker build would fail at "COPY ${instruction.args}"`)
    const target = paths.length > 1 || dest.endsWith('/') ? join(destPath, basename(path)) : destPath
    const filter = from === undefined ? (file: string) => inContext(relative(projectRoot, file).split(sep).join('/')) : () => true
    await cp(sourcePath, target, { recursive: true, errorOnExist: false, filter })
  }
}

t.test('the image built from the Dockerfile serves, passes its health check and stops cleanly', async (t) => {
  const dockerfile = await readFile(join(projectRoot, 'Dockerfile'), 'utf8')
  const stages = parseDockerfile(dockerfile)
  const build = stages.find((stage) => stage.name === 'build')
  const runtime = stages.at(-1)
  if (build === undefined || runtime === undefined || runtime === build) throw new Error('expected a build stage and a final runtime stage')

  // The steps this test mirrors, so that the Dockerfile and the test cannot drift apart silently.
  for (const stage of [build, runtime]) t.match(stage.from, /^node:(20|22)-bookworm-slim$/, 'an official Node LTS slim image')
  const buildRuns = all(build, 'RUN').map((instruction) => instruction.args)
  t.ok(buildRuns.some((args) => /^npm ci\b/.test(args) && !args.includes('--omit=dev')), 'build stage: npm ci with dev dependencies')
  t.ok(buildRuns.includes('npm run build'), 'build stage: npm run build')
  const runtimeRuns = all(runtime, 'RUN').map((instruction) => instruction.args)
  t.ok(runtimeRuns.some((args) => args.startsWith('npm ci --omit=dev --ignore-scripts')), 'runtime: production dependencies only')
  const user = all(runtime, 'USER').at(-1)?.args
  t.ok(user !== undefined && !['root', '0'].includes(user), `runs as a non-root user (${String(user)})`)
  t.same(all(runtime, 'STOPSIGNAL').map((instruction) => instruction.args), ['SIGTERM'])
  const healthcheck = all(runtime, 'HEALTHCHECK').at(-1)?.args ?? ''
  t.match(healthcheck, /\/health/, 'HEALTHCHECK probes /health')
  t.notMatch(healthcheck, /curl|wget/, 'without tools the slim image lacks')
  t.same(execForm(all(runtime, 'CMD').at(-1)?.args ?? '[]'), ['node', 'dist/server/server.js'], 'starts node directly (no npm, which would build)')
  t.notOk(all(runtime, 'COPY').some((instruction) => /node_modules/.test(instruction.args)), 'dev dependencies never reach the runtime stage')

  const dockerignore = await readFile(join(projectRoot, '.dockerignore'), 'utf8')
  const inContext = contextFilter(dockerignore)
  const ignored = dockerignore.split('\n').map((line) => line.trim())
  for (const entry of ['node_modules', 'dist', '.env', 'data']) t.ok(ignored.includes(entry), `.dockerignore keeps ${entry} out of the context`)

  // Build stage. node_modules is linked instead of `npm ci` with dev dependencies (same lockfile, much faster).
  const buildRoot = await tempDir(t, 'image-build')
  const buildWorkdir = all(build, 'WORKDIR').at(-1)?.args ?? '/'
  const stageDirs: Record<string, { root: string, workdir: string }> = { build: { root: buildRoot, workdir: buildWorkdir } }
  const buildApp = join(buildRoot, posix.relative('/', buildWorkdir))
  await mkdir(buildApp, { recursive: true })
  for (const instruction of build.instructions) {
    if (instruction.keyword === 'COPY') await mirrorCopy(instruction, buildRoot, buildWorkdir, stageDirs, inContext)
    else if (instruction.keyword === 'RUN' && /^npm ci\b/.test(instruction.args)) await symlink(join(projectRoot, 'node_modules'), join(buildApp, 'node_modules'), 'dir')
    else if (instruction.keyword === 'RUN' && instruction.args === 'npm run build') await run('npm', ['run', 'build', '--silent'], { cwd: buildApp })
    else if (instruction.keyword === 'RUN') t.fail(`the contract test does not know how to replay build step "RUN ${instruction.args}": teach it`)
  }

  // The widgets are built in the image (esbuild from web/), never taken from a developer's static/ folder.
  for (const bundle of ['chat.js', 'seller-chats.js']) {
    t.notOk(inContext(`static/${bundle}`), `.dockerignore keeps a local static/${bundle} out of the context`)
    t.ok(existsSync(join(buildApp, 'static', bundle)) && existsSync(join(buildApp, 'static', `${bundle}.map`)),
      `the build stage made static/${bundle} and its source map`)
  }

  // Runtime stage.
  const runtimeRoot = await tempDir(t, 'image-runtime')
  const workdir = all(runtime, 'WORKDIR').at(-1)?.args ?? '/'
  const app = join(runtimeRoot, posix.relative('/', workdir))
  await mkdir(app, { recursive: true })
  for (const instruction of runtime.instructions) {
    if (instruction.keyword === 'COPY') {
      await mirrorCopy(instruction, runtimeRoot, workdir, stageDirs, inContext)
    } else if (instruction.keyword === 'RUN') {
      for (const command of instruction.args.split(' && ')) {
        if (command.startsWith('npm ci --omit=dev --ignore-scripts')) {
          // --prefer-offline: the developer's npm cache stands in for the registry.
          await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app })
        } else if (command.startsWith('mkdir -p ')) {
          for (const dir of command.slice('mkdir -p '.length).split(' ')) await mkdir(join(runtimeRoot, dir), { recursive: true })
        } else if (!/^(npm cache clean --force|chown \S+ \S+)$/.test(command)) {
          t.fail(`the contract test does not know how to replay runtime step "${command}": teach it`)
        }
      }
    }
  }

  const installed = await readdir(join(app, 'node_modules'))
  t.ok(installed.includes('fastify'), 'production dependencies installed')
  for (const dev of ['typescript', 'tap', 'pino-pretty', 'playwright-core']) t.notOk(installed.includes(dev), `no ${dev} in the image`)
  t.notOk((await readdir(join(app, 'dist'))).includes('test'), 'no tests compiled into the image')

  // Run it as the image would: its ENV, then what compose would pass (secrets, database), bound to loopback for the test.
  const database = await isolatedDatabase(t)
  const env = { ...productionEnv(database), ...envOf(runtime), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...database.env }
  const command = execForm(all(runtime, 'CMD').at(-1)?.args ?? '[]')
  const server = await startServer(t, { cwd: app, command, env })

  const health = await fetch(`${server.url}/health`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'healthy', service: 'chat' })
  const ready = await fetch(`${server.url}/ready`)
  t.equal(ready.status, 200, 'the database answers')
  t.match(await ready.json(), { status: 'ready', database: 'up' })

  // Migrations ran at start: a real chat can be opened.
  const session = await (await fetch(`${server.url}/api/chat/anonymous`, { method: 'POST' })).json() as { token: string }
  const chat = await fetch(`${server.url}/api/chat/chats`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ listing_id: 'L1', seller_id: 'seller-1' })
  })
  t.equal(chat.status, 201)

  const widget = await fetch(`${server.url}/static/chat.js`)
  t.equal(widget.status, 200, 'the widget is in the image')
  t.equal(widget.headers.get('cross-origin-resource-policy'), 'cross-origin')
  const widgetText = await widget.text()
  t.match(widgetText, /sourceMappingURL=chat\.js\.map\s*$/, 'it is the esbuild bundle, with its source map')
  t.equal((await fetch(`${server.url}/static/seller-chats.js`)).status, 200, 'so is the seller inbox')

  const probe = async (port: number): Promise<number | null> => {
    const [program, ...args] = execForm(healthcheck) as [string, ...string[]]
    const child = spawn(program, args, { cwd: app, env: { ...env, PORT: String(port) }, stdio: 'ignore' })
    const [code] = await once(child, 'exit') as [number | null]
    return code
  }
  t.equal(await probe(server.port), 0, 'the HEALTHCHECK command passes against the running service')

  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'SIGTERM stops it cleanly')
  t.equal(await probe(server.port), 1, 'and the HEALTHCHECK command fails once it is gone')
})
