// One reading of a typed phone for the console's client form and the CSV import (both paths: src/common/phone.ts).
export { normalizeTypedPhone as normalizePhone } from '../../src/clients/client.csv';
