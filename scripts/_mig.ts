import { migrateDatabase } from '../src/db/migrate';
await migrateDatabase(process.argv[2]);
console.log('migrated');
