// The reference tables cannot drift from the code: the error-code table is src/errors.ts, the frame table is the
// frame unions of src/realtime/frames.ts, and the JSON examples have exactly the fields the schemas define.
// New codes and frames only need rows in the docs; failures name what is missing or extra.
import t from 'tap'
import type { Tokens } from 'marked'
import { ChatSummary, Message } from '../../src/chat/schemas.js'
import { errorStatus } from '../../src/errors.js'
import { ClientFrame, ServerFrame } from '../../src/realtime/frames.js'
import { allTokens, docPaths, loadDoc, missingFrom, section, tableIn, type Doc } from '../fixtures/markdown.js'

interface ObjectSchema { properties: Record<string, unknown>, required?: string[] }

const api = loadDoc('docs/api.md')
const websocket = loadDoc('docs/websocket.md')
const codes = Object.keys(errorStatus)
const statusOf = (code: string): number | undefined => (errorStatus as Record<string, number>)[code]

t.test('the error-code table lists every code in src/errors.ts with its status, and nothing else', async (t) => {
  const rows = tableIn(api, 'Error codes')
  const documented = new Map(rows.map((row) => [row.code[0]?.[0] ?? row.text[0] ?? '', Number(row.text[1])]))
  t.equal(documented.size, rows.length, 'one row per code')
  t.same(missingFrom(codes, documented.keys()), [], 'codes in src/errors.ts without a row in docs/api.md#error-codes')
  t.same(missingFrom(documented.keys(), codes), [], 'rows in docs/api.md#error-codes for codes src/errors.ts does not have')
  const wrongStatus = [...documented].filter(([code, status]) => statusOf(code) !== undefined && statusOf(code) !== status)
    .map(([code, status]) => `${code}: documented ${status}, src/errors.ts says ${statusOf(code)}`)
  t.same(wrongStatus, [], 'statuses that differ from src/errors.ts')
})

t.test('every code the docs mention elsewhere exists, with the status it really has', async (t) => {
  const wrong: string[] = []
  for (const path of docPaths()) {
    for (const token of allTokens(loadDoc(path).tokens)) {
      if (token.type !== 'codespan') continue
      // `404 chat_not_found`: a status and the code that comes with it.
      const match = /^(\d{3}) ([a-z_]+)$/.exec((token as Tokens.Codespan).text)
      if (match === null) continue
      const [, status, code] = match as unknown as [string, string, string]
      if (statusOf(code) === undefined) wrong.push(`${path}: \`${status} ${code}\` is not a code in src/errors.ts`)
      else if (statusOf(code) !== Number(status)) wrong.push(`${path}: \`${status} ${code}\`, but src/errors.ts says ${statusOf(code)}`)
    }
  }
  const errorFrameCodes = tableIn(websocket, 'Error frames').flatMap((row) => row.code[0] ?? [])
  const upgradeRefusals = tableIn(websocket, 'Connecting').filter((row) => row.code[1]?.[0] !== undefined)
  t.ok(errorFrameCodes.length >= 7 && upgradeRefusals.length >= 4, 'read the error-frame and upgrade-refusal tables')
  for (const code of missingFrom(errorFrameCodes, codes)) wrong.push(`docs/websocket.md#error-frames: ${code} is not a code in src/errors.ts`)
  for (const row of upgradeRefusals) {
    const code = row.code[1]?.[0] as string
    if (statusOf(code) !== Number(row.text[0])) wrong.push(`docs/websocket.md#connecting: ${row.text[0]} ${code} does not match src/errors.ts`)
  }
  t.same(wrong, [], 'codes and statuses that do not match src/errors.ts')
})

/** `client → server:message`, … for every frame a union holds. */
function frameTypes (direction: string, union: { anyOf: Array<{ properties: { type: { const: string } } }> }): string[] {
  return union.anyOf.map((schema) => `${direction}:${schema.properties.type.const}`)
}

t.test('the frame table lists every client and server frame in src/realtime/frames.ts, and nothing else', async (t) => {
  const inCode = [...frameTypes('client → server', ClientFrame as any), ...frameTypes('server → client', ServerFrame as any)]
  const rows = tableIn(websocket, 'Frames at a glance')
  const documented = rows.map((row) => `${row.text[1]}:${row.code[0]?.[0] ?? row.text[0]}`)
  t.ok(inCode.length >= 13, `${inCode.length} frame types in the code`)
  t.same(missingFrom(inCode, documented), [], 'frames in src/realtime/frames.ts without a row in docs/websocket.md#frames-at-a-glance')
  t.same(missingFrom(documented, inCode), [], 'rows in docs/websocket.md#frames-at-a-glance for frames src/realtime/frames.ts does not have')
})

/** Field problems of one example against the schemas it could be: none when it fits one of them exactly. */
function fieldProblems (example: Record<string, unknown>, candidates: ObjectSchema[]): string[] {
  const problems = candidates.map((schema) => {
    const fields = Object.keys(schema.properties)
    const extra = missingFrom(Object.keys(example), fields)
    const missing = missingFrom(schema.required ?? [], Object.keys(example))
    return [...extra.map((field) => `unknown field ${field}`), ...missing.map((field) => `missing ${field}`)]
  })
  return problems.find((list) => list.length === 0) ?? problems[0] ?? ['no frame has this type']
}

/** JSON examples in a page: ```json blocks and code spans that are a JSON object. */
function jsonExamples (tokens: Doc['tokens']): Array<Record<string, unknown>> {
  const examples: Array<Record<string, unknown>> = []
  for (const token of allTokens(tokens)) {
    const text = token.type === 'code' && (token as Tokens.Code).lang === 'json' ? (token as Tokens.Code).text : token.type === 'codespan' ? (token as Tokens.Codespan).text : null
    if (text === null || !text.trimStart().startsWith('{')) continue
    try {
      examples.push(JSON.parse(text))
    } catch {
      if (token.type === 'code') throw new Error(`a json block that is not JSON: ${text.slice(0, 80)}`)
    }
  }
  return examples
}

t.test('every frame example in docs/websocket.md has exactly the fields of a frame of its type', async (t) => {
  const schemas = [...(ClientFrame as any).anyOf, ...(ServerFrame as any).anyOf] as Array<ObjectSchema & { properties: { type: { const: string } } }>
  const frames = jsonExamples(websocket.tokens).filter((example) => typeof example.type === 'string')
  t.ok(frames.length >= 15, `${frames.length} frame examples`)
  const wrong: string[] = []
  for (const frame of frames) {
    const problems = fieldProblems(frame, schemas.filter((schema) => schema.properties.type.const === frame.type))
    if (problems.length > 0) wrong.push(`${JSON.stringify(frame).slice(0, 60)}…: ${problems.join(', ')}`)
    // Messages and chat summaries inside frames are the REST objects.
    for (const [key, schema] of [['message', Message], ['chat', ChatSummary]] as const) {
      if (typeof frame[key] === 'object' && frame[key] !== null) {
        for (const problem of fieldProblems(frame[key] as Record<string, unknown>, [schema as unknown as ObjectSchema])) wrong.push(`${String(frame.type)}.${key}: ${problem}`)
      }
    }
    if (Array.isArray(frame.messages)) {
      for (const message of frame.messages) for (const problem of fieldProblems(message, [Message as unknown as ObjectSchema])) wrong.push(`history.messages: ${problem}`)
    }
  }
  t.same(wrong, [], 'frame examples that do not match src/realtime/frames.ts')
})

t.test('the chat summary and message examples in docs/api.md have exactly the fields of the schemas', async (t) => {
  for (const [title, schema] of [['Chat summary', ChatSummary], ['Message', Message]] as const) {
    const [example] = jsonExamples(section(api, title))
    t.ok(example !== undefined, `an example under "${title}"`)
    t.same(fieldProblems(example ?? {}, [schema as unknown as ObjectSchema]), [], `the ${title} example against src/chat/schemas.ts`)
  }
})
