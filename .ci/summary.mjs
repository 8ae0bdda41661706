// Prints vitest's totals as plain lines, the closing line CI reads; vitest's own summary is not one
// it knows.
//
//   node .ci/summary.mjs                      the last `npm test` (.cache/test-results.json)
//   node .ci/summary.mjs A.json B.json ...    one line per run (named after its file), then the total
//
// The last line is always `tests: N passed, N failed, N skipped`. A test file that failed to load
// counts as one failed test, and so does a run that left no results (its install or build failed),
// so that the total never says 0 failed when something did. Exit 1 when anything failed or no test ran.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const files = process.argv.length > 2 ? process.argv.slice(2) : [fileURLToPath(new URL('../.cache/test-results.json', import.meta.url))];
const total = { passed: 0, failed: 0, skipped: 0 };
let ok = true;

for (const file of files) {
  const name = basename(file, '.json');
  if (!existsSync(file)) {
    console.log(`${name}: no results (the run stopped before its tests finished; see its log above)`);
    total.failed += 1;
    ok = false;
    continue;
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  // A file that could not be imported fails with no failed test of its own.
  const brokenFiles = results.testResults.filter((entry) => entry.status === 'failed' && !entry.assertionResults.some((test) => test.status === 'failed'));
  const run = {
    passed: results.numPassedTests,
    failed: results.numFailedTests + brokenFiles.length,
    skipped: results.numPendingTests + results.numTodoTests,
  };
  for (const entry of brokenFiles) console.log(`${name}: ${entry.name} failed to run: ${String(entry.message ?? '').split('\n')[0]}`);
  if (files.length > 1) console.log(`${name}: ${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped`);
  if (results.numTotalTests === 0) {
    console.error(`${name}: no test ran`);
    ok = false;
  }
  if (run.failed > 0) ok = false;
  total.passed += run.passed;
  total.failed += run.failed;
  total.skipped += run.skipped;
}

console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
