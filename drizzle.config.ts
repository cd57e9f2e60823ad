import { defineConfig } from 'drizzle-kit';

// Migrations are generated SQL, committed and reviewed; they run at start-up on PGlite and Postgres
// alike (never `drizzle-kit push`).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/storage/schema.ts',
  out: './migrations',
});
