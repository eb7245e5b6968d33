#!/usr/bin/env node
// Times SQL statements inside one DuckDB process, so that node's and DuckDB's start-up (about 0.5 s here, and
// noisy on a loaded machine) is not part of what is measured. Used by parquet_bench.sh.
//
//   node tests/bench/duckdb_timed.mjs "SQL" ["SQL" ...]
//
// Every argument is one statement, run in order on one in-memory DuckDB with `threads = 1` and
// `preserve_insertion_order = true`, the settings of tests/oracles/parquet_oracle.mjs (whose @duckdb/node-api
// install this borrows). For each statement it prints one line: "wall_s cpu_s vmhwm_kb", where cpu_s is the
// process's user + system CPU during the statement (all threads: getrusage) and vmhwm_kb its peak RSS during the
// statement (the high-water mark is reset before it by writing 5 to /proc/self/clear_refs; it includes node's own
// resident memory, about 94 MiB with DuckDB loaded). Rows a statement returns are drained and not printed.
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(join(here, '..', 'oracles', 'package.json'))
const duck = await import(require.resolve('@duckdb/node-api'))

const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1])
const resetHwm = () => writeFileSync('/proc/self/clear_refs', '5')

const statements = process.argv.slice(2)
if (!statements.length) {
  process.stderr.write('usage: duckdb_timed.mjs "SQL" ["SQL" ...]\n')
  process.exit(2)
}
const instance = await duck.DuckDBInstance.create(':memory:', { threads: '1' })
const conn = await instance.connect()
await conn.run('SET threads = 1')
await conn.run('SET preserve_insertion_order = true')
for (const sql of statements) {
  resetHwm()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const result = await conn.stream(sql)
  while (true) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(`${wall.toFixed(3)} ${((cpu.user + cpu.system) / 1e6).toFixed(2)} ${hwm()}\n`)
}
