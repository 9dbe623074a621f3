// Owns who a caller is: the verified identity every route and socket works from.

export interface Identity {
  /** The marketplace's user id (registered) or the id this service minted (anonymous). */
  userId: string
  registered: boolean
}

/**
 * One key per person for channels and presence. Registered and anonymous ids live in separate namespaces,
 * so a marketplace account whose id happens to equal an anonymous buyer's uuid is still someone else.
 */
export function identityKey (identity: Identity): string {
  return `${identity.registered ? 'u' : 'a'}:${identity.userId}`
}
