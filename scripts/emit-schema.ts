// Prints the schema the type-graphql classes build into schema.graphql (committed).
import { writeFileSync } from 'node:fs';
import { printHeraldSchema } from '../src/graphql/print-schema';

writeFileSync(new URL('../schema.graphql', import.meta.url), await printHeraldSchema());
console.log('schema.graphql written');
