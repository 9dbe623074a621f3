// Owns the REST-only schema pieces routes share: the error body, ids in paths, and paging parameters.
import { Type } from 'typebox'

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

// seq, read pointers and offsets meet Postgres integers: a larger number must be a 400 here, not an "out of range" 500 there.
export const MAX_DB_INTEGER = 2_147_483_647

export const ChatIdParams = Type.Object({ id: Type.String({ description: 'Chat id (uuid)' }) })

// Marketplaces use numbers, slugs or UUIDs for listings and users; all are stored as text. A plain string
// schema: JSON numbers are coerced to their text. A string|integer union would let Ajv coerce a blank
// string that failed the string branch into the integer 0, turning "   " into a chat with user "0".
export const ExternalId = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Text or a number' })

/** Seed-era fields: accepted, ignored, and a user_id different from the token's is refused. */
export const CompatFields = {
  user_id: Type.Optional(ExternalId),
  is_seller: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
  sender_is_registered: Type.Optional(Type.Union([Type.Boolean(), Type.String()]))
}

export const bearerSecurity = [{ bearerAuth: [] }]
