// Summarises V8 .cpuprofile files (node --cpu-prof): the functions with the most self time, and
// self time per module (package or source file). Usable alone: node bench/cpuprofile-top.mjs FILE...
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a script URL belongs: node_modules/<package>, a workspace package, node internals. */
function moduleOf(url) {
  if (!url) return '(native/vm)';
  if (url.startsWith('node:')) return 'node:internal';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const ws = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ws) return `@walaudit/${ws[2]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url) {
  return url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, 'node_modules/').replace(/^.*\/(packages|services)\//, '$1/');
}

/** { totalMs, functions: [{ name, where, selfMs, selfPct }], modules: [{ module, selfMs, selfPct }] } */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the following interval to sample i.
    const delta = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, delta));
  }
  const functions = new Map();
  const modules = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, selfUs: 0 };
    entry.selfUs += us;
    functions.set(key, entry);
    const module = ['(garbage collector)', '(program)', '(idle)'].includes(name) ? name : moduleOf(callFrame.url);
    modules.set(module, (modules.get(module) ?? 0) + us);
    total += us;
  }
  const busy = total - (modules.get('(idle)') ?? 0);
  const pct = (us) => Math.round((us / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    functions: [...functions.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: Math.round(f.selfUs / 1000), selfPctOfBusy: pct(f.selfUs) })),
    modules: [...modules.entries()]
      .filter(([module]) => module !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([module, us]) => ({ module, selfMs: Math.round(us / 1000), selfPctOfBusy: pct(us) })),
  };
}

export function summarizeProfileFile(path, top) {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')), top);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    process.stdout.write(`${JSON.stringify({ file, ...summarizeProfileFile(file) }, null, 2)}\n`);
  }
}
