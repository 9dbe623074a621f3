// Owns who a caller is: the verified identity every route and socket works from.

export interface Identity {
  /** The marketplace's user id (registered) or the id this service minted (anonymous). */
  userId: string
  registered: boolean
  /** A registered user's display name from their token (cleaned), when it carries one; never part of who they are. */
  displayName?: string | null
  /** Roles the marketplace's token grants (registered users only; see AUTH_JWT_ROLES_CLAIM). */
  roles?: readonly string[]
}

/**
 * One key per person for channels and presence. Registered and anonymous ids live in separate namespaces,
 * so a marketplace account whose id happens to equal an anonymous buyer's uuid is still someone else.
 */
export function identityKey (identity: Identity): string {
  return `${identity.registered ? 'u' : 'a'}:${identity.userId}`
}

/** The inverse of identityKey. */
export function identityFromKey (key: string): Identity {
  return { userId: key.slice(2), registered: key.startsWith('u:') }
}

/**
 * Whose budget a rate-limited route spends: the caller's identity key once authenticated, else the client address.
 * A Fastify request fits (request.identity is set by the auth plugin, null before it or without a token).
 */
export function perUser (request: { identity: Identity | null, ip: string }): string {
  return request.identity === null ? request.ip : identityKey(request.identity)
}
