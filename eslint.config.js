// Owns the lint rules: neostandard (the Fastify ecosystem's standard style, with TypeScript), run by `npm run lint` and CI.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    // Built output and bundles are generated, not written by hand.
    ignores: ['dist/**', 'static/**/*.js', 'coverage/**', '.tap/**', 'bench/results/**', 'test/artifacts/**']
  }),
  {
    rules: {
      // Short related fields share a line (locale tables, config groups); one property per line would only add length.
      '@stylistic/object-property-newline': 'off',
      // `void promise` marks a promise deliberately not awaited (its failure is handled where it is created).
      'no-void': ['error', { allowAsStatement: true }],
      // A TypeBox schema and its Static type share one name on purpose; tsc already refuses real redeclarations.
      'no-redeclare': 'off',
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
