import { migrateAndSeed } from '../migrate.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required, e.g. postgres://user:password@host:5432/aicloud');
  process.exit(1);
}
await migrateAndSeed(url);
console.log('migrations applied, catalog seeded');
