// Owns the HTTP wire pieces routes and the OpenAPI description share: the error body, ids in paths, seed-era fields,
// and the Ajv keyword that keeps coerced numbers finite.
import type { FastifyServerOptions } from 'fastify'
import { Type } from 'typebox'
import { FINITE_KEYWORD } from '../chat/schemas.js'
import { MAX_ID_LENGTH, STORABLE_TEXT_PATTERN, StorableString } from '../chat/storable-text.js'

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable machine-readable code, e.g. chat_not_found' }),
    message: Type.String(),
    request_id: Type.String()
  })
})

/** Error statuses every authenticated route can answer. */
export const authErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  429: ErrorResponse
}

export const ChatIdParams = Type.Object({ id: StorableString({ description: 'Chat id (uuid)' }) })

// Marketplaces use numbers, slugs or UUIDs for listings and users; all are stored as text. A plain string
// schema: JSON numbers are coerced to their text. A string|integer union would let Ajv coerce a blank
// string that failed the string branch into the integer 0, turning "   " into a chat with user "0".
// Not only blank: at least one non-space character, and nothing PostgreSQL cannot store (see storable-text.ts).
export const ExternalId = Type.String({
  minLength: 1,
  maxLength: MAX_ID_LENGTH,
  pattern: `^(?=[\\s\\S]*\\S)${STORABLE_TEXT_PATTERN.slice(1)}`,
  description: 'Text or a number'
})

/** Seed-era fields: accepted, ignored, and a user_id different from the token's is refused. */
export const CompatFields = {
  user_id: Type.Optional(ExternalId),
  is_seller: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  sender_is_registered: Type.Optional(Type.Union([Type.Boolean(), Type.String()]))
}

export const bearerSecurity = [{ bearerAuth: [] }]

// Fastify's own name for an Ajv plugin, so this file needs no import from Ajv (not a direct dependency).
type AjvPlugin = Extract<NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number], (...args: never[]) => unknown>

/**
 * Ajv plugin: with coerceTypes, "Infinity", "-Infinity" and "1e999" become non-finite numbers that pass type
 * integer and skip minimum/maximum (ajv-validator/ajv#2212). Schemas made with DbInteger carry the keyword this adds.
 */
export const finiteNumbers: AjvPlugin = (ajv) => {
  type Check = ((enabled: boolean, data: unknown) => boolean) & { errors?: Array<{ keyword: string, message: string, params: object }> }
  const validate: Check = (enabled, data) => {
    const ok = !enabled || typeof data !== 'number' || Number.isFinite(data)
    validate.errors = ok ? [] : [{ keyword: FINITE_KEYWORD, message: 'must be a finite number', params: {} }]
    return ok
  }
  return ajv.addKeyword({ keyword: FINITE_KEYWORD, schemaType: 'boolean', errors: true, validate })
}
