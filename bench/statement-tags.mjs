// Cost of reading a statement's sqlcommenter tags (core's readStatementTags), which the decoder
// does once per statement context message: microseconds per statement, median/min/max of runs.
// Not part of `npm run bench` (it measures the pipeline); run after a build:
//
//   node bench/statement-tags.mjs          (BENCH_RUNS, default 7)
import { performance } from 'node:perf_hooks';
import { readStatementTags } from '@walaudit/core';
import { summarize } from './stats.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 7);
const limits = { maxCount: 32, maxLength: 2048 };
const TAGS = "/*action='destroy',controller='users',framework='rails',route='%2Fusers%2F%3Aid',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',user='alice'*/";
const CASES = {
  // What the tx workload's statements look like: no comment at all.
  plain: { statement: 'INSERT INTO bench_tx (id, v) VALUES (1, 2)' },
  tagged: { statement: `DELETE FROM users WHERE id = 42 ${TAGS}` },
  // The longest text the trigger records: 4096 characters and the 4096 of the end.
  long: { statement: `DELETE FROM users WHERE id IN (${'1234567, '.repeat(455)}`, statementEnd: `${'1234567, '.repeat(440)}1) ${TAGS}` },
  // Not what the trigger sends (it caps at 4096), but what the parser must survive.
  megabyte: { statement: `DELETE FROM t /*user='${'a'.repeat(1024 * 1024)}'*/` },
};

const result = {};
for (const [name, recorded] of Object.entries(CASES)) {
  const iterations = name === 'megabyte' ? 20 : name === 'long' ? 2_000 : 100_000;
  const perStatement = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    let found = 0;
    for (let i = 0; i < iterations; i++) if ('tags' in readStatementTags(recorded, limits)) found++;
    perStatement.push(((performance.now() - start) * 1000) / iterations);
    if (run === 0) result[`${name}Found`] = found === iterations;
  }
  result[`${name}MicrosPerStatement`] = summarize(perStatement);
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
