// Owns "text the database can hold": PostgreSQL text refuses U+0000, a lone UTF-16 surrogate has no UTF-8 form, and
// the embedded database (PGlite) reads a value back without its leading U+FEFF (its decoder takes it for a byte order mark).
import { Type } from 'typebox'
import { AppError } from '../errors.js'

/**
 * For JSON-schema `pattern`s. Both validators (Ajv for REST, TypeBox for frames) compile patterns with the `u` flag,
 * where a surrogate range matches only a surrogate that is not half of a pair; a well-formed emoji passes.
 */
export const STORABLE_TEXT_PATTERN = '^(?!\\uFEFF)[^\\u0000\\uD800-\\uDFFF]*$'

/**
 * Longest external id (listing, seller, registered user) in characters. Ids are in unique indexes, whose entries
 * PostgreSQL caps at about 2.7 kB: three ids of 200 characters always fit, a user id of several kB would not.
 */
export const MAX_ID_LENGTH = 200

/** True when both databases store exactly this string and hand the same string back. */
export function isStorableText (text: string): boolean {
  return !text.includes('\u0000') && !text.startsWith('\uFEFF') && text.isWellFormed()
}

/**
 * The guard in front of the database for identifiers (ids, client_message_id): schemas refuse such input first;
 * this keeps one user's bad input out of a shared batch whichever path it came by. Identifiers are refused, never
 * repaired: replacing a lone surrogate with U+FFFD would make two different ids one.
 */
export function assertStorableId (value: string, field: string): void {
  if (!isStorableText(value)) {
    throw new AppError('validation_failed', `${field} must not contain U+0000 or unpaired UTF-16 surrogates, nor start with U+FEFF`)
  }
}

/** A string schema for identifiers and other text stored as given: refused (validation_failed) if unstorable. */
export const StorableString = (options: Parameters<typeof Type.String>[0] = {}) =>
  Type.String({ pattern: STORABLE_TEXT_PATTERN, ...options })
