// Bundles the service entry (tsc's dist/main.js and everything it imports) into dist/main.js itself.
// Start-up on one core spent ~0.35 s resolving, reading and linking ~900 ES modules one by one; one
// file parses in a fraction of that (decision 0001). dist/*.js stay as tsc wrote them for the CLI.
// The source map chains through tsc's maps back to src/ (node --enable-source-maps dist/main.js).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/main.js'],
  outfile: 'dist/main.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // PGlite finds its .wasm and .data files next to its own modules; swagger-ui-dist is only located
  // (its files are served from where npm put them), never loaded.
  external: ['@electric-sql/pglite', 'swagger-ui-dist'],
  // CommonJS dependencies call require(); an ES module bundle has none of its own.
  banner: { js: "import { createRequire as __syndicateCreateRequire } from 'node:module';\nconst require = __syndicateCreateRequire(import.meta.url);" },
});
