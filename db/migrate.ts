import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { seedCatalog } from './seed/apply.ts';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies the committed drizzle-kit migrations, then upserts the catalog. Run by `npm run dev`, the test
 * harness and deploys (`npm run db:migrate` with DATABASE_URL pointing at Neon).
 */
export async function migrateAndSeed(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const db = drizzle(pool);
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    await seedCatalog(db);
  } finally {
    await pool.end();
  }
}
