// One cold start, in a fresh process: imports the bundle given as argv[2] and prints how long the import
// (the module's top-level work: Lambda's init phase, without the runtime's own start) took, in ms.
// Plain JavaScript so that nothing but Node itself runs before the import.
import { pathToFileURL } from 'node:url';

const started = performance.now();
const cpu = process.cpuUsage();
const module = await import(pathToFileURL(process.argv[2]).href);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
if (typeof module.handler !== 'function') {
  console.error(`${process.argv[2]}: no exported handler`);
  process.exit(3);
}
// CPU time too: on a shared machine the wall time also counts the waits for a core.
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));
process.exit(0);
