/**
 * `npm run bench -- <name>`: runs one benchmark. Each runs its candidate and a baseline in the same
 * process and prints, as its last line, one JSON object with the figures and their ratio.
 */
const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  coldstart: async () => (await import('./coldstart.ts')).run(),
  catalog: async () => (await import('./catalog.ts')).run(),
  local: async () => (await import('./local.ts')).run(),
  orders: async () => (await import('./orders.ts')).run(),
  inventory: async () => (await import('./inventory.ts')).run(),
};

const name = process.argv[2] ?? '';
const bench = BENCHES[name];
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
  process.exit(2);
}
const result = await bench();
console.log(JSON.stringify({ bench: name, ...result }));
process.exit(0);
