#!/usr/bin/env node
// Parquet oracles for sluice's tests: two independent Parquet implementations (DuckDB's C++ reader/writer and the
// pure-JS hyparquet / hyparquet-writer) behind one CLI, printing rows as "canonical JSON" so that their output can be
// compared byte for byte with each other and with sluice's own reader. See README.md beside this file.
//
//   node parquet_oracle.mjs read <duckdb|hyparquet> <file.parquet>   rows as canonical JSON lines
//   node parquet_oracle.mjs meta <file.parquet>                      footer metadata as one JSON object
//   node parquet_oracle.mjs duckdb-sql <sql>                         run SQL (threads=1), result rows as JSON lines
//   node parquet_oracle.mjs hyparquet-write <spec.json> <out.parquet>
//
// Both readers are mapped to canonical JSON from the file's own Parquet schema (read with hyparquet's footer parser),
// never from what an engine guessed; values never pass through a double unless the Parquet type is FLOAT/DOUBLE/FLOAT16.

import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// ---------------------------------------------------------------------------------------------------------------
// Canonical JSON text

/** An ordered JSON object (keeps file order and duplicate keys, unlike a JS object with integer-like keys). */
class Obj {
  constructor(entries) { this.entries = entries }
}

function ser(v) {
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false'
    case 'bigint': return v.toString()
    case 'string': return JSON.stringify(v)
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`internal: non-finite number ${v} reached the serializer`)
      return Object.is(v, -0) ? '-0' : String(v)
  }
  if (Array.isArray(v)) return '[' + v.map(ser).join(',') + ']'
  if (v instanceof Obj) return '{' + v.entries.map(([k, x]) => JSON.stringify(String(k)) + ':' + ser(x)).join(',') + '}'
  if (v instanceof Uint8Array) return JSON.stringify(b64(v))
  if (typeof v === 'object') {
    const parts = []
    for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(JSON.stringify(k) + ':' + ser(x))
    return '{' + parts.join(',') + '}'
  }
  throw new Error(`internal: cannot serialize ${typeof v}`)
}

/** Buffered stdout: large outputs in few writes. */
const out = {
  chunks: [], size: 0,
  line(s) {
    this.chunks.push(s, '\n'); this.size += s.length + 1
    if (this.size > 1 << 20) this.flush()
  },
  flush() {
    if (this.chunks.length) writeFileSync(1, this.chunks.join(''))
    this.chunks = []; this.size = 0
  },
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting helpers shared by both readers (pure integer arithmetic)

const b64 = bytes => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function utf8(bytes) {
  try {
    return utf8Strict.decode(bytes)
  } catch {
    throw new Error(`invalid UTF-8 in a string column (base64 ${b64(bytes)})`)
  }
}

function canonFloat(x) {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  return x
}

/** A FLOAT (or FLOAT16) value as the fewest digits that read back as the same float32: what sluice prints,
 * and what a person expects ("0.1", not the widened double's "0.10000000149011612"). */
function shortestFloat32(x) {
  if (!Number.isFinite(x) || x === 0) return x
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p))
    if (Math.fround(y) !== x) continue
    // When x lies exactly halfway between two p-digit decimals, toPrecision rounds away from zero; sluice (C++
    // std::to_chars) takes the one with the even last digit, as round-to-nearest-even does.
    const finer = x.toExponential(p) // p + 1 significant digits
    const [mantissa, exponent] = finer.split('e')
    if (Number(finer) === x && mantissa.endsWith('5')) {
      const down = Number(mantissa.slice(0, -1) + 'e' + exponent)
      const lastDown = mantissa.replace(/[-.]/g, '').slice(-2, -1)
      if (Number(lastDown) % 2 === 0 && Math.fround(down) === x) return down
    }
    return y
  }
  return x
}

/** IEEE 754 binary16, little-endian bytes -> exact double. */
function half(bytes) {
  const bits = bytes[0] | bytes[1] << 8
  const sign = bits & 0x8000 ? -1 : 1
  const exp = bits >> 10 & 0x1f
  const frac = bits & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 0x1f) return frac ? NaN : sign * Infinity
  return sign * (1024 + frac) * 2 ** (exp - 25)
}

/** Big-endian two's complement bytes -> BigInt. */
function beSigned(bytes) {
  let v = 0n
  for (const b of bytes) v = v << 8n | BigInt(b)
  if (bytes.length && bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8)
  return v
}

function fmtDecimal(unscaled, scale) {
  const neg = unscaled < 0n
  let s = (neg ? -unscaled : unscaled).toString()
  if (scale > 0) {
    s = s.padStart(scale + 1, '0')
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale)
  } else if (scale < 0) {
    s = unscaled === 0n ? '0' : s + '0'.repeat(-scale)
  }
  return (neg ? '-' : '') + s
}

// Howard Hinnant's civil-from-days / days-from-civil (proleptic Gregorian, astronomical years: 1 BC = year 0).
function civilFromDays(z) {
  z += 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0)
  return [y, m, d]
}

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

const p2 = n => String(n).padStart(2, '0')

function fmtDate(days) {
  const [y, m, d] = civilFromDays(Number(days))
  const ys = y < 0 ? '-' + String(-y).padStart(4, '0') : String(y).padStart(4, '0')
  return `${ys}-${p2(m)}-${p2(d)}`
}

const floorDiv = (a, b) => { const q = a / b; return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q }
const NANOS_PER = { MILLIS: 1000000n, MICROS: 1000n, NANOS: 1n }
const DIGITS = { MILLIS: 3, MICROS: 6, NANOS: 9 }
const NS_PER_SEC = 1000000000n
const NS_PER_DAY = 86400n * NS_PER_SEC

/** Nanoseconds within a day (may be >= 24h for TIME) -> "HH:MM:SS[.fraction]". Sub-unit digits are kept if non-zero. */
function fmtClock(nanos, digits) {
  const secs = floorDiv(nanos, NS_PER_SEC)
  const frac = nanos - secs * NS_PER_SEC
  const h = floorDiv(secs, 3600n), mi = (secs / 60n) % 60n, s = secs % 60n
  let f = frac.toString().padStart(9, '0')
  if (/[1-9]/.test(f.slice(digits))) f = f.replace(/0+$/, '')
  else f = f.slice(0, digits)
  return `${p2(h)}:${p2(mi)}:${p2(s)}` + (f ? '.' + f : '')
}

function fmtTimestamp(nanos, digits, utc) {
  const days = floorDiv(nanos, NS_PER_DAY)
  return fmtDate(Number(days)) + 'T' + fmtClock(nanos - days * NS_PER_DAY, digits) + (utc ? 'Z' : '')
}

// ---------------------------------------------------------------------------------------------------------------
// Parquet schema: what each leaf means, and the shape of each group (spec rules incl. backward compatibility)

const INT_CONVERTED = {
  INT_8: [8, true], INT_16: [16, true], INT_32: [32, true], INT_64: [64, true],
  UINT_8: [8, false], UINT_16: [16, false], UINT_32: [32, false], UINT_64: [64, false],
}

/** The canonical kind of a leaf: logical type first, then converted type, then physical type. */
function leafKind(el) {
  const lt = el.logical_type
  switch (lt?.type) {
    case 'STRING': case 'ENUM': case 'JSON': return { kind: 'string' }
    case 'BSON': return { kind: 'binary' }
    case 'UUID': return { kind: 'uuid' }
    case 'FLOAT16': return { kind: 'float16' }
    case 'DECIMAL': return { kind: 'decimal', scale: lt.scale ?? 0 }
    case 'DATE': return { kind: 'date' }
    case 'TIME': return { kind: 'time', unit: lt.unit }
    case 'TIMESTAMP': return { kind: 'timestamp', unit: lt.unit, utc: !!lt.isAdjustedToUTC }
    case 'INTEGER': return { kind: 'int', bits: lt.bitWidth, signed: !!lt.isSigned }
    case 'NULL': return { kind: 'null' }
  }
  const ct = el.converted_type
  switch (ct) {
    case 'UTF8': case 'ENUM': case 'JSON': return { kind: 'string' }
    case 'BSON': return { kind: 'binary' }
    case 'DECIMAL': return { kind: 'decimal', scale: el.scale ?? 0 }
    case 'DATE': return { kind: 'date' }
    case 'TIME_MILLIS': return { kind: 'time', unit: 'MILLIS' }
    case 'TIME_MICROS': return { kind: 'time', unit: 'MICROS' }
    case 'TIMESTAMP_MILLIS': return { kind: 'timestamp', unit: 'MILLIS', utc: true }
    case 'TIMESTAMP_MICROS': return { kind: 'timestamp', unit: 'MICROS', utc: true }
    case 'INTERVAL': return { kind: 'interval' }
  }
  if (ct in INT_CONVERTED) return { kind: 'int', bits: INT_CONVERTED[ct][0], signed: INT_CONVERTED[ct][1] }
  switch (el.type) {
    case 'BOOLEAN': return { kind: 'bool' }
    case 'INT32': return { kind: 'int', bits: 32, signed: true }
    case 'INT64': return { kind: 'int', bits: 64, signed: true }
    case 'INT96': return { kind: 'int96' }
    case 'FLOAT': case 'DOUBLE': return { kind: 'float' }
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY': return { kind: 'binary' }
  }
  throw new Error(`unsupported leaf ${el.name}: ${JSON.stringify(el, (k, v) => typeof v === 'bigint' ? String(v) : v)}`)
}

const kindCache = new WeakMap()
function kindOf(el) {
  let k = kindCache.get(el)
  if (!k) kindCache.set(el, k = leafKind(el))
  return k
}

const isRepeated = node => node.element.repetition_type === 'REPEATED'

/**
 * LIST: group (LIST) { repeated group list { <element> } } per the spec, with its backward-compatibility rules:
 * the repeated field itself is the element when it is a primitive, a group of several fields, or a one-field group
 * named "array" or "<list name>_tuple". MAP / MAP_KEY_VALUE: group { repeated group key_value { key; value? } }.
 */
function groupShape(node) {
  if (node.shape) return node.shape
  const el = node.element
  const c0 = node.children[0]
  let shape = { type: 'struct' }
  if ((el.converted_type === 'LIST' || el.logical_type?.type === 'LIST') && node.children.length === 1 && isRepeated(c0)) {
    const direct = !c0.children.length || c0.children.length > 1 ||
      c0.element.name === 'array' || c0.element.name === el.name + '_tuple'
    shape = { type: 'list', rep: c0, elem: direct ? c0 : c0.children[0], direct }
  } else if ((el.converted_type === 'MAP' || el.converted_type === 'MAP_KEY_VALUE' || el.logical_type?.type === 'MAP') &&
      node.children.length === 1 && isRepeated(c0) && c0.children.length >= 1 && c0.children.length <= 2) {
    const key = c0.children.find(c => c.element.name === 'key') ?? c0.children[0]
    const value = c0.children.find(c => c !== key)
    const stringKeys = !key.children.length && kindOf(key.element).kind === 'string'
    shape = { type: 'map', kv: c0, key, value, stringKeys }
  }
  node.shape = shape
  return shape
}

/** A column/field value (the node's own repetition handled here). */
function convertField(v, node, E) {
  if (isRepeated(node)) {
    if (v === null || v === undefined) return []
    return E.repeated(v, node).map(x => convertInner(x, node, E))
  }
  return convertInner(v, node, E)
}

/** One instance of a node (not repeated). */
function convertInner(v, node, E) {
  if (v === null || v === undefined) return null
  if (!node.children.length) return E.leaf(v, node.element)
  const shape = groupShape(node)
  if (shape.type === 'list') {
    return E.listItems(v, node, shape).map(x => shape.direct ? convertInner(x, shape.elem, E) : convertField(x, shape.elem, E))
  }
  if (shape.type === 'map') {
    const entries = E.mapEntries(v, node, shape).map(({ key, value }) => [
      convertField(key, shape.key, E),
      shape.value ? convertField(value, shape.value, E) : null,
    ])
    if (shape.stringKeys) return new Obj(entries)
    return entries.map(([key, value]) => new Obj([['key', key], ['value', value]]))
  }
  return new Obj(node.children.map(c => [c.element.name, convertField(E.field(v, c, node), c, E)]))
}

// ---------------------------------------------------------------------------------------------------------------
// Physical (raw) values -> canonical: used for hyparquet rows (read with all leaf annotations removed) and statistics

function canonRaw(raw, el) {
  const k = kindOf(el)
  switch (k.kind) {
    case 'bool': return !!raw
    case 'int':
      if (el.type === 'INT64') {
        const b = typeof raw === 'bigint' ? raw : BigInt(raw)
        return k.signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b)
      }
      return k.signed ? Number(raw) | 0 : Number(raw) >>> 0
    case 'float': return canonFloat(el.type === 'FLOAT' ? shortestFloat32(Number(raw)) : Number(raw))
    case 'float16': return canonFloat(shortestFloat32(half(raw)))
    case 'string': return utf8(raw)
    case 'binary': return b64(raw)
    case 'uuid': {
      const h = hex(raw)
      return h.length === 32 ? `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` : h
    }
    case 'decimal': {
      const unscaled = typeof raw === 'bigint' ? raw : typeof raw === 'number' ? BigInt(raw) : beSigned(raw)
      return fmtDecimal(unscaled, k.scale)
    }
    case 'date': return fmtDate(Number(raw))
    case 'time': return fmtClock(BigInt(raw) * NANOS_PER[k.unit], DIGITS[k.unit])
    case 'timestamp': return fmtTimestamp(BigInt(raw) * NANOS_PER[k.unit], DIGITS[k.unit], k.utc)
    case 'int96': return fmtTimestamp(raw, 9, true) // raw = nanoseconds since the epoch (see readHyparquet)
    case 'interval': {
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
      return new Obj([['months', dv.getUint32(0, true)], ['days', dv.getUint32(4, true)], ['millis', dv.getUint32(8, true)]])
    }
    case 'null': return null
  }
  throw new Error(`internal: kind ${k.kind}`)
}

/** Statistics bytes (PLAIN encoding without length prefix) -> physical value. */
function statPhysical(bytes, el) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (el.type) {
    case 'BOOLEAN': return bytes[0] !== 0
    case 'INT32': return dv.getInt32(0, true)
    case 'INT64': return dv.getBigInt64(0, true)
    case 'INT96': return (BigInt(dv.getInt32(8, true)) - 2440588n) * NS_PER_DAY + dv.getBigUint64(0, true)
    case 'FLOAT': return dv.getFloat32(0, true)
    case 'DOUBLE': return dv.getFloat64(0, true)
    default: return bytes
  }
}

function canonStat(bytes, el) {
  if (bytes === undefined) return undefined
  try {
    return canonRaw(statPhysical(bytes, el), el)
  } catch {
    return new Obj([['undecodable_base64', b64(bytes)]])
  }
}

// ---------------------------------------------------------------------------------------------------------------
// File and footer access (hyparquet's footer parser; used by both readers for the schema)

function loadFile(path) {
  const buf = readFileSync(path)
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
}

async function loadMeta(path) {
  const { parquetMetadata, parquetSchema } = await import('hyparquet')
  const arrayBuffer = loadFile(path)
  // geoparquet: false so that hyparquet does not invent logical types from "geo" key-value metadata
  const metadata = parquetMetadata(arrayBuffer, { geoparquet: false })
  return { arrayBuffer, metadata, tree: parquetSchema(metadata) }
}

// ---------------------------------------------------------------------------------------------------------------
// read hyparquet: raw physical values (leaf annotations and MAP annotations removed from a copy of the footer),
// then converted to canonical JSON here from the real schema.

async function readHyparquet(path) {
  const { parquetRead } = await import('hyparquet')
  const { isListLike } = await import('hyparquet/src/schema.js')
  const { compressors } = await import('hyparquet-compressors')
  const { arrayBuffer, metadata, tree } = await loadMeta(path)

  const raw = structuredClone(metadata)
  for (const el of raw.schema) {
    if (el.type) { // leaf: read the physical values, no conversion at all
      delete el.converted_type
      delete el.logical_type
    } else if (el.converted_type === 'MAP' || el.converted_type === 'MAP_KEY_VALUE' || el.logical_type?.type === 'MAP') {
      // hyparquet turns maps into JS objects (keys stringified, integer-like keys reordered, duplicates merged):
      // read them as a plain group holding the repeated key_value group instead.
      delete el.converted_type
      delete el.logical_type
    }
  }

  const E = {
    leaf: canonRaw,
    repeated: v => v,
    field: (v, child) => v[child.element.name],
    listItems(v, node, shape) {
      if (isListLike(node)) {
        // hyparquet unwrapped the list; with a one-field repeated group it went one level deeper than the spec's
        // "array"/"_tuple" rule says, so rebuild that one-field struct.
        if (shape.direct && shape.rep.children.length === 1) {
          const name = shape.rep.children[0].element.name
          return v.map(x => ({ [name]: x }))
        }
        return v
      }
      // not list-like for hyparquet: assembled as a struct holding the repeated group
      const items = v[shape.rep.element.name] ?? []
      return shape.direct ? items : items.map(x => x?.[shape.elem.element.name])
    },
    mapEntries(v, node, shape) {
      const items = v[shape.kv.element.name] ?? []
      return items.map(x => ({ key: x?.[shape.key.element.name], value: shape.value ? x?.[shape.value.element.name] : null }))
    },
  }

  const columns = tree.children
  let rows
  await parquetRead({
    file: arrayBuffer,
    metadata: raw,
    compressors,
    utf8: false,
    rowFormat: 'object',
    // INT96 is converted before any annotation is looked at: keep it as exact nanoseconds since the epoch
    parsers: { timestampFromNanoseconds: n => n },
    onComplete: r => { rows = r },
  })
  for (const row of rows ?? []) {
    out.line(ser(new Obj(columns.map(c => [c.element.name, convertField(row[c.element.name], c, E)]))))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// DuckDB

async function duckConnect() {
  const duck = await import('@duckdb/node-api')
  // @duckdb/node-api decodes every VARCHAR with `new TextDecoder()`, which silently drops a leading U+FEFF (BOM).
  // Its accessor reads the decoder through `exports.textDecoder`, so swap in one that keeps the BOM.
  const require = createRequire(import.meta.url)
  const accessors = require(join(dirname(require.resolve('@duckdb/node-api')), 'vectors', 'dataAccessors.js'))
  if (!(accessors.textDecoder instanceof TextDecoder)) throw new Error('@duckdb/node-api internals changed: textDecoder')
  accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true })
  const instance = await duck.DuckDBInstance.create(':memory:', { threads: '1' })
  const conn = await instance.connect()
  await conn.run('SET threads = 1')
  await conn.run('SET preserve_insertion_order = true')
  return { duck, conn }
}

function duckNanos(v, duck) {
  if (v instanceof duck.DuckDBTimestampNanosecondsValue) return v.nanos
  if (v instanceof duck.DuckDBTimestampMillisecondsValue) return v.millis * 1000000n
  if (v instanceof duck.DuckDBTimestampSecondsValue) return v.seconds * NS_PER_SEC
  if (v instanceof duck.DuckDBTimestampValue || v instanceof duck.DuckDBTimestampTZValue) return v.micros * 1000n
  if (v instanceof duck.DuckDBTimeNSValue) return v.nanos
  if (v instanceof duck.DuckDBTimeValue || v instanceof duck.DuckDBTimeTZValue) return v.micros * 1000n
  return undefined
}

function duckBytes(v, duck) {
  if (v instanceof duck.DuckDBBlobValue) return v.bytes
  if (typeof v === 'string') return new TextEncoder().encode(v)
  return undefined
}

function duckLeaf(v, el, duck) {
  const k = kindOf(el)
  const bad = () => { throw new Error(`duckdb returned ${v?.constructor?.name ?? typeof v} ${v} for ${el.name} (${k.kind})`) }
  switch (k.kind) {
    case 'bool': return typeof v === 'boolean' ? v : bad()
    case 'int': return typeof v === 'number' || typeof v === 'bigint' ? v : bad()
    case 'float': case 'float16': return typeof v === 'number' ? canonFloat(el.type === 'DOUBLE' ? v : shortestFloat32(v)) : bad()
    case 'string': return typeof v === 'string' ? v : v instanceof duck.DuckDBBlobValue ? utf8(v.bytes) : bad()
    case 'binary': { const b = duckBytes(v, duck); return b ? b64(b) : bad() }
    case 'uuid':
      if (v instanceof duck.DuckDBUUIDValue) return v.toString().toLowerCase()
      return v instanceof duck.DuckDBBlobValue ? canonRaw(v.bytes, el) : bad()
    case 'decimal':
      if (v instanceof duck.DuckDBDecimalValue) return fmtDecimal(v.value, v.scale)
      if ((typeof v === 'bigint' || Number.isSafeInteger(v)) && k.scale === 0) return fmtDecimal(BigInt(v), 0)
      if (typeof v === 'number') return `DOUBLE:${v}` // DuckDB widened it (e.g. precision > 38): cannot be exact
      return bad()
    case 'date': return v instanceof duck.DuckDBDateValue ? fmtDate(v.days) : bad()
    case 'time': {
      const n = duckNanos(v, duck)
      return n === undefined ? bad() : fmtClock(n, DIGITS[k.unit])
    }
    case 'timestamp': case 'int96': {
      const n = duckNanos(v, duck)
      return n === undefined ? bad() : fmtTimestamp(n, k.kind === 'int96' ? 9 : DIGITS[k.unit], k.kind === 'int96' || k.utc)
    }
    case 'interval':
      if (v instanceof duck.DuckDBIntervalValue) {
        return new Obj([['months', v.months], ['days', v.days], ['millis', Number(floorDiv(v.micros, 1000n))]])
      }
      return bad()
    case 'null': return null
  }
  return bad()
}

async function readDuckdb(path) {
  // the footer only: DuckDB reads the data itself
  const { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } = await import('hyparquet')
  const tree = parquetSchema(await parquetMetadataAsync(await asyncBufferFromFile(path), { geoparquet: false }))
  const { duck, conn } = await duckConnect()
  const isList = v => v instanceof duck.DuckDBListValue || v instanceof duck.DuckDBArrayValue
  const structField = (v, name) => {
    if (!(v instanceof duck.DuckDBStructValue)) throw new Error(`duckdb returned ${v?.constructor?.name} where a struct was expected`)
    return v.entries[name]
  }
  // DuckDB collapses a repeated group of one field into a list of that field's values (legacy lists named "array"
  // or "<name>_tuple", bare repeated groups). A repeated group instance is never null, so this is lossless: rebuild it.
  const uncollapse = (items, group) => {
    if (group.children.length !== 1 || items.every(x => x instanceof duck.DuckDBStructValue)) return items
    const name = group.children[0].element.name
    return items.map(x => new duck.DuckDBStructValue({ [name]: x }))
  }
  const E = {
    leaf: (v, el) => duckLeaf(v, el, duck),
    repeated: (v, node) => uncollapse(isList(v) ? v.items : v, node),
    field: (v, child) => structField(v, child.element.name),
    listItems(v, node, shape) {
      if (isList(v)) return shape.direct && shape.rep.children.length ? uncollapse(v.items, shape.rep) : v.items
      // a struct holding the repeated group
      const items = structField(v, shape.rep.element.name)?.items ?? []
      return shape.direct ? items : items.map(x => x === null ? null : structField(x, shape.elem.element.name))
    },
    mapEntries(v, node, shape) {
      if (v instanceof duck.DuckDBMapValue) return v.entries
      const items = isList(v) ? v.items : structField(v, shape.kv.element.name)?.items ?? []
      return items.map(x => ({
        key: structField(x, shape.key.element.name),
        value: shape.value ? structField(x, shape.value.element.name) : null,
      }))
    },
  }
  const columns = tree.children
  const sql = `SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`
  const result = await conn.stream(sql)
  if (result.columnCount !== columns.length) {
    throw new Error(`duckdb sees ${result.columnCount} columns, the footer has ${columns.length}`)
  }
  for (;;) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
    for (const row of chunk.getRows()) {
      out.line(ser(new Obj(columns.map((c, i) => [c.element.name, convertField(row[i], c, E)]))))
    }
  }
}

/** Canonical-ish JSON for any DuckDB value (duckdb-sql output, where no Parquet schema applies). */
function duckAny(v, duck) {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return canonFloat(v)
  if (typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'string') return v
  if (v instanceof duck.DuckDBDecimalValue) return fmtDecimal(v.value, v.scale)
  if (v instanceof duck.DuckDBBlobValue) return b64(v.bytes)
  if (v instanceof duck.DuckDBDateValue) return fmtDate(v.days)
  if (v instanceof duck.DuckDBTimestampTZValue) return fmtTimestamp(v.micros * 1000n, 6, true)
  if (v instanceof duck.DuckDBTimestampNanosecondsValue) return fmtTimestamp(v.nanos, 9, false)
  if (v instanceof duck.DuckDBTimestampMillisecondsValue) return fmtTimestamp(v.millis * 1000000n, 3, false)
  if (v instanceof duck.DuckDBTimestampSecondsValue) return fmtTimestamp(v.seconds * NS_PER_SEC, 0, false)
  if (v instanceof duck.DuckDBTimestampValue) return fmtTimestamp(v.micros * 1000n, 6, false)
  if (v instanceof duck.DuckDBTimeNSValue) return fmtClock(v.nanos, 9)
  if (v instanceof duck.DuckDBTimeValue) return fmtClock(v.micros * 1000n, 6)
  if (v instanceof duck.DuckDBUUIDValue) return v.toString().toLowerCase()
  if (v instanceof duck.DuckDBIntervalValue) return new Obj([['months', v.months], ['days', v.days], ['micros', v.micros]])
  if (v instanceof duck.DuckDBListValue || v instanceof duck.DuckDBArrayValue) return v.items.map(x => duckAny(x, duck))
  if (v instanceof duck.DuckDBStructValue) return new Obj(Object.entries(v.entries).map(([k, x]) => [k, duckAny(x, duck)]))
  if (v instanceof duck.DuckDBMapValue) {
    if (v.entries.every(e => typeof e.key === 'string')) return new Obj(v.entries.map(e => [e.key, duckAny(e.value, duck)]))
    return v.entries.map(e => new Obj([['key', duckAny(e.key, duck)], ['value', duckAny(e.value, duck)]]))
  }
  return v.toString() // TIMETZ, UNION, BIT, VARIANT, GEOMETRY, ...
}

async function duckdbSql(sql) {
  const { duck, conn } = await duckConnect()
  const statements = await conn.extractStatements(sql)
  for (let i = 0; i < statements.count; i++) {
    const prepared = await statements.prepare(i)
    const result = await prepared.stream()
    if (result.returnType !== duck.ResultReturnType.QUERY_RESULT) {
      await result.fetchChunk() // drain
      continue
    }
    const names = result.columnNames()
    for (;;) {
      const chunk = await result.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      for (const row of chunk.getRows()) out.line(ser(new Obj(names.map((n, j) => [n, duckAny(row[j], duck)]))))
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// meta

async function meta(path) {
  const { deserializeTCompactProtocol } = await import('hyparquet/src/thrift.js')
  const { parquetHeader } = await import('hyparquet/src/column.js')
  const { metadata, arrayBuffer } = await loadMeta(path)
  const view = new DataView(arrayBuffer)

  // Raw thrift footer, for exact statistics bytes (hyparquet's parsed stats turn decimals/timestamps into doubles/Dates)
  const metaLen = view.getUint32(view.byteLength - 8, true)
  const rawFooter = deserializeTCompactProtocol({ view, offset: view.byteLength - 8 - metaLen })
  const leaves = metadata.schema.filter(e => e.type)

  const clean = o => {
    const r = {}
    for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v
    return r
  }

  const rowGroups = metadata.row_groups.map((rg, g) => {
    let sum = 0n
    const columns = rg.columns.map((cc, c) => {
      const md = cc.meta_data
      const el = leaves[c]
      sum += md?.total_compressed_size ?? 0n
      const rawStats = rawFooter.field_4[g].field_1[c].field_3?.field_12
      const statistics = rawStats ? clean({
        null_count: rawStats.field_3,
        distinct_count: rawStats.field_4,
        min_value: canonStat(rawStats.field_6, el),
        max_value: canonStat(rawStats.field_5, el),
        is_min_value_exact: rawStats.field_8,
        is_max_value_exact: rawStats.field_7,
        min_deprecated: canonStat(rawStats.field_2, el),
        max_deprecated: canonStat(rawStats.field_1, el),
      }) : null

      // walk the page headers of the chunk
      const pageTypes = [], pageEncodings = [], pageCounts = {}
      let pageError
      if (md) {
        const dict = md.dictionary_page_offset
        let offset = Number(dict !== undefined && dict > 0n && dict < md.data_page_offset ? dict : md.data_page_offset)
        const end = offset + Number(md.total_compressed_size)
        try {
          while (offset < end) {
            const reader = { view, offset }
            const h = parquetHeader(reader)
            if (!pageTypes.includes(h.type)) pageTypes.push(h.type)
            pageCounts[h.type] = (pageCounts[h.type] ?? 0) + 1
            const enc = h.data_page_header?.encoding ?? h.data_page_header_v2?.encoding
            if (enc && !pageEncodings.includes(enc)) pageEncodings.push(enc)
            offset = reader.offset + h.compressed_page_size
          }
        } catch (e) {
          pageError = String(e.message ?? e)
        }
      }
      return clean({
        path: md?.path_in_schema.join('.'),
        type: md?.type,
        codec: md?.codec,
        encodings: md?.encodings,
        encoding_stats: md?.encoding_stats,
        page_types_seen: pageTypes,
        page_counts: pageCounts,
        page_encodings_seen: pageEncodings,
        page_walk_error: pageError,
        num_values: md?.num_values,
        total_compressed_size: md?.total_compressed_size,
        total_uncompressed_size: md?.total_uncompressed_size,
        data_page_offset: md?.data_page_offset,
        dictionary_page_offset: md?.dictionary_page_offset ?? null,
        index_page_offset: md?.index_page_offset,
        bloom_filter_offset: md?.bloom_filter_offset,
        offset_index_offset: cc.offset_index_offset,
        column_index_offset: cc.column_index_offset,
        statistics,
      })
    })
    return clean({
      num_rows: rg.num_rows,
      total_byte_size: rg.total_byte_size,
      compressed_size: rg.total_compressed_size ?? sum,
      compressed_size_from: rg.total_compressed_size !== undefined ? 'row_group' : 'sum_of_columns',
      file_offset: rg.file_offset,
      ordinal: rg.ordinal,
      sorting_columns: rg.sorting_columns,
      columns,
    })
  })
  const result = {
    version: metadata.version,
    num_rows: metadata.num_rows,
    row_groups: rowGroups,
    key_value: new Obj((metadata.key_value_metadata ?? []).map(kv => [kv.key, kv.value ?? null])),
    created_by: metadata.created_by ?? null,
    schema: metadata.schema.map(clean),
  }
  out.line(ser(result))
}

// ---------------------------------------------------------------------------------------------------------------
// hyparquet-write: a spec file -> explicit schema + values hyparquet-writer accepts

function parseTypeString(t) {
  const m = /^\s*([A-Za-z_0-9]+)\s*(?:\((.*)\))?\s*$/.exec(t)
  if (!m) throw new Error(`bad type "${t}"`)
  return [m[1].toUpperCase(), m[2] === undefined ? [] : m[2].split(',').map(s => s.trim())]
}

const UNIT = { MILLIS: 'MILLIS', MS: 'MILLIS', MICROS: 'MICROS', US: 'MICROS', NANOS: 'NANOS', NS: 'NANOS' }
const bool = s => s === undefined ? undefined : /^(true|1|utc)$/i.test(s)

function decimalBytes(precision) {
  let n = 1
  while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(precision) - 1n) n++
  return n
}

/** Leaf schema element (without name / repetition) for a type name. */
function leafElement(type) {
  const [name, args] = parseTypeString(type)
  const INTS = { INT8: 'INT_8', INT16: 'INT_16', UINT8: 'UINT_8', UINT16: 'UINT_16', UINT32: 'UINT_32', UINT64: 'UINT_64' }
  switch (name) {
    // hyparquet-writer BasicType, mapped exactly as hyparquet-writer maps them
    case 'BOOLEAN': case 'INT32': case 'INT64': case 'FLOAT': case 'DOUBLE': case 'BYTE_ARRAY': return { type: name }
    case 'STRING': return { type: 'BYTE_ARRAY', converted_type: 'UTF8' }
    case 'JSON': return { type: 'BYTE_ARRAY', converted_type: 'JSON' }
    case 'UUID': return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }
    case 'FLOAT16': return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' } }
    // extensions
    case 'ENUM': return { type: 'BYTE_ARRAY', converted_type: 'ENUM', logical_type: { type: 'ENUM' } }
    case 'BSON': return { type: 'BYTE_ARRAY', converted_type: 'BSON', logical_type: { type: 'BSON' } }
    case 'DATE': return { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }
    case 'INTERVAL': return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, converted_type: 'INTERVAL' }
    case 'FIXED_LEN_BYTE_ARRAY': return { type: name, type_length: Number(args[0]) }
    case 'INT8': case 'INT16': case 'UINT8': case 'UINT16': case 'UINT32': case 'UINT64': {
      // Converted type only: hyparquet-writer 0.17.0 serializes IntType.bitWidth (thrift i8) as an i32, which strict
      // thrift readers such as DuckDB reject ("TProtocolException: Invalid data"). A raw schema element with
      // logical_type INTEGER still reproduces that.
      return { type: name === 'UINT64' ? 'INT64' : 'INT32', converted_type: INTS[name] }
    }
    case 'TIMESTAMP': {
      if (!args.length) return { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' } // hyparquet-writer's TIMESTAMP
      const unit = UNIT[args[0].toUpperCase()]
      if (!unit) throw new Error(`bad timestamp unit in ${type}`)
      const utc = bool(args[1]) ?? true
      const converted_type = utc && unit !== 'NANOS' ? `TIMESTAMP_${unit}` : undefined
      return { type: 'INT64', converted_type, logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: utc, unit } }
    }
    case 'TIMESTAMP_MILLIS': case 'TIMESTAMP_MICROS': return { type: 'INT64', converted_type: name }
    case 'TIME': {
      const unit = UNIT[(args[0] ?? 'MICROS').toUpperCase()]
      if (!unit) throw new Error(`bad time unit in ${type}`)
      const utc = bool(args[1]) ?? false
      const converted_type = utc && unit !== 'NANOS' ? `TIME_${unit}` : undefined
      return { type: unit === 'MILLIS' ? 'INT32' : 'INT64', converted_type, logical_type: { type: 'TIME', isAdjustedToUTC: utc, unit } }
    }
    case 'DECIMAL': {
      const precision = Number(args[0]), scale = Number(args[1] ?? 0)
      if (!(precision >= 1) || !(scale >= 0) || scale > precision) throw new Error(`bad ${type}`)
      const physical = (args[2] ?? (precision <= 9 ? 'INT32' : precision <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY')).toUpperCase()
      const el = { type: physical, converted_type: 'DECIMAL', scale, precision, logical_type: { type: 'DECIMAL', scale, precision } }
      if (physical === 'FIXED_LEN_BYTE_ARRAY') el.type_length = decimalBytes(precision)
      return el
    }
  }
  throw new Error(`unknown type "${type}"`)
}

function parseDecimalString(s, scale) {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(s).trim())
  if (!m) throw new Error(`bad decimal "${s}"`)
  const frac = m[3] ?? ''
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) throw new Error(`decimal "${s}" has more than ${scale} digits after the point`)
  const v = BigInt(m[2] + frac.slice(0, scale).padEnd(scale, '0'))
  return m[1] ? -v : v
}

function parseDateString(s) {
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})$/.exec(s)
  if (!m) throw new Error(`bad date "${s}"`)
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]))
}

function parseClock(s) {
  const m = /^(\d{2,}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(s)
  if (!m) throw new Error(`bad time "${s}"`)
  return ((BigInt(m[1]) * 60n + BigInt(m[2])) * 60n + BigInt(m[3])) * NS_PER_SEC + BigInt((m[4] ?? '').padEnd(9, '0'))
}

function toUnit(nanos, unit, s) {
  if (nanos % NANOS_PER[unit] !== 0n) throw new Error(`"${s}" is finer than ${unit}`)
  return nanos / NANOS_PER[unit]
}

function parseTimestampString(s) {
  const m = /^(-?\d{4,}-\d{2}-\d{2})[T ](.*?)(Z)?$/.exec(s)
  if (!m) throw new Error(`bad timestamp "${s}"`)
  return BigInt(parseDateString(m[1])) * NS_PER_DAY + parseClock(m[2])
}

/** JSON.parse, except that integers beyond 2^53 become BigInt instead of being rounded. */
function parseJsonLossless(text) {
  let i = 0
  const NUM = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
  const STR = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y
  const ws = () => { while (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t') i++ }
  const fail = what => { throw new Error(`spec JSON: ${what} at offset ${i}`) }
  function value() {
    ws()
    const c = text[i]
    if (c === '{') {
      i++; const o = {}; ws()
      if (text[i] === '}') { i++; return o }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected a key')
        const k = string(); ws()
        if (text[i++] !== ':') fail('expected ":"')
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true }); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i++] === '}') return o
        fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      i++; const a = []; ws()
      if (text[i] === ']') { i++; return a }
      for (;;) {
        a.push(value()); ws()
        if (text[i] === ',') { i++; continue }
        if (text[i++] === ']') return a
        fail('expected "," or "]"')
      }
    }
    if (c === '"') return string()
    NUM.lastIndex = i
    const m = NUM.exec(text)
    if (m) {
      i += m[0].length
      const n = Number(m[0])
      return !m[1] && !m[2] && !Number.isSafeInteger(n) ? BigInt(m[0]) : n
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v }
    }
    return fail('unexpected character')
  }
  function string() {
    STR.lastIndex = i
    const m = STR.exec(text)
    if (!m) fail('bad string')
    i += m[0].length
    return JSON.parse(m[0])
  }
  const v = value(); ws()
  if (i < text.length) fail('trailing text')
  return v
}

const fromB64 = s => new Uint8Array(Buffer.from(s, 'base64'))
const toFloat = v => Number(v) // also "NaN", "Infinity", "-Infinity" and BigInt

/** Canonical JSON value -> what hyparquet-writer expects for this leaf element. */
function canonToWriter(v, el) {
  if (v === null || v === undefined) return null
  const k = kindOf(el)
  const ct = el.converted_type
  switch (k.kind) {
    case 'bool': return Boolean(v)
    case 'int':
      if (el.type === 'INT64') return BigInt(v)
      return Number(v)
    case 'float': case 'float16': return toFloat(v)
    case 'string':
      if (ct === 'UTF8') return String(v)
      if (ct === 'JSON') return JSON.parse(v) // hyparquet-writer serializes JSON columns itself
      return new TextEncoder().encode(v)
    case 'binary': {
      const b = fromB64(v)
      if (el.type === 'FIXED_LEN_BYTE_ARRAY' && b.length !== el.type_length) throw new Error(`${el.name}: ${b.length} bytes, want ${el.type_length}`)
      return b
    }
    case 'uuid': return String(v)
    case 'decimal': {
      const unscaled = parseDecimalString(v, k.scale)
      if (ct === 'DECIMAL') return unscaled // hyparquet-writer encodes a bigint as the unscaled value
      if (el.type === 'INT32') return Number(unscaled)
      if (el.type === 'INT64') return unscaled
      throw new Error(`${el.name}: byte-array DECIMAL needs converted_type DECIMAL`)
    }
    case 'date': return typeof v === 'number' ? v : parseDateString(v)
    case 'time': {
      const units = typeof v === 'number' ? BigInt(v) : toUnit(parseClock(v), k.unit, v)
      return el.type === 'INT32' ? Number(units) : units
    }
    case 'timestamp':
      return typeof v === 'number' || /^-?\d+$/.test(v) ? BigInt(v) : toUnit(parseTimestampString(v), k.unit, v)
    case 'interval': {
      const b = new Uint8Array(12)
      const dv = new DataView(b.buffer)
      dv.setUint32(0, v.months, true); dv.setUint32(4, v.days, true); dv.setUint32(8, v.millis, true)
      return b
    }
    case 'null': return null
  }
  throw new Error(`hyparquet-writer cannot write ${k.kind} (${el.name})`)
}

/**
 * Type spec -> { elements: flat schema elements, convert: canonical value -> writer value }.
 * type: a type-name string, a SchemaElement-like leaf object ({type, converted_type?, logical_type?, ...}),
 * {"list": type, "element_nullable"?: bool}, {"struct": [{name, type, nullable?}]},
 * {"map": {"key": type, "value": type, "value_nullable"?: bool}}.
 */
function buildColumn(name, type, nullable) {
  const repetition_type = nullable === false ? 'REQUIRED' : 'OPTIONAL'
  if (typeof type === 'string' || type && typeof type.type === 'string') {
    const el = { ...(typeof type === 'string' ? leafElement(type) : type), name, repetition_type }
    for (const k of Object.keys(el)) if (el[k] === undefined) delete el[k]
    return { elements: [el], convert: v => canonToWriter(v, el) }
  }
  if (type?.list !== undefined) {
    const elem = buildColumn('element', type.list, type.element_nullable)
    return {
      elements: [
        { name, repetition_type, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elem.elements,
      ],
      convert: v => v === null || v === undefined ? null : v.map(elem.convert),
    }
  }
  if (type?.struct !== undefined) {
    const fields = type.struct.map(f => ({ name: f.name, ...buildColumn(f.name, f.type, f.nullable) }))
    return {
      elements: [{ name, repetition_type, num_children: fields.length }, ...fields.flatMap(f => f.elements)],
      convert: v => v === null || v === undefined ? null :
        Object.fromEntries(fields.map(f => [f.name, f.convert(v[f.name])])),
    }
  }
  if (type?.map !== undefined) {
    const key = buildColumn('key', type.map.key, false)
    const value = buildColumn('value', type.map.value, type.map.value_nullable)
    return {
      elements: [
        { name, repetition_type, converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        ...key.elements, ...value.elements,
      ],
      convert: v => {
        if (v === null || v === undefined) return null
        const entries = Array.isArray(v) ? v.map(e => [e.key, e.value]) : Object.entries(v)
        return entries.map(([k, x]) => ({ key: key.convert(k), value: value.convert(x) }))
      },
    }
  }
  throw new Error(`column ${name}: bad type ${JSON.stringify(type)}`)
}

async function hyparquetWrite(specPath, outPath) {
  const { parquetWriteBuffer } = await import('hyparquet-writer')
  const { gzipSync, brotliCompressSync } = await import('node:zlib')
  const spec = parseJsonLossless(readFileSync(specPath, 'utf8'))
  // "schema" given: a raw hyparquet-writer schema (flat SchemaElement list, root first) and data in hyparquet-writer's
  // own input form, passed through untouched (for shapes the typed columns cannot express, e.g. legacy lists).
  const raw = spec.schema !== undefined
  const schema = raw ? spec.schema : [{ name: 'root', num_children: spec.columns.length }]
  const columnData = []
  for (const col of spec.columns) {
    let convert = v => v
    if (!raw) {
      const built = buildColumn(col.name, col.type, col.nullable)
      schema.push(...built.elements)
      convert = built.convert
    }
    const source = { name: col.name, data: col.data.map(convert) }
    for (const k of ['encoding', 'codec', 'statistics', 'columnIndex', 'offsetIndex', 'bloomFilter']) {
      if (col[k] !== undefined) source[k] = col[k]
    }
    columnData.push(source)
  }
  const codec = (spec.codec ?? 'SNAPPY').toUpperCase()
  const compressors = {
    GZIP: b => new Uint8Array(gzipSync(b)),
    BROTLI: b => new Uint8Array(brotliCompressSync(b)),
  }
  const options = { columnData, schema, codec, compressors }
  if (spec.row_group_size !== undefined) options.rowGroupSize = spec.row_group_size
  if (spec.page_size !== undefined) options.pageSize = spec.page_size
  if (spec.statistics !== undefined) options.statistics = spec.statistics
  if (spec.dictionary_size !== undefined) options.dictionarySize = spec.dictionary_size
  if (spec.created_by !== undefined) options.createdBy = spec.created_by
  if (spec.key_value !== undefined) { // an object, or [{key, value}] to keep the order of integer-like keys
    options.kvMetadata = Array.isArray(spec.key_value) ? spec.key_value : Object.entries(spec.key_value).map(([key, value]) => ({ key, value }))
  }
  writeFileSync(outPath, new Uint8Array(parquetWriteBuffer(options)))
}

// ---------------------------------------------------------------------------------------------------------------

const USAGE = `usage:
  parquet_oracle.mjs read <duckdb|hyparquet> <file.parquet>
  parquet_oracle.mjs meta <file.parquet>
  parquet_oracle.mjs duckdb-sql <sql>
  parquet_oracle.mjs hyparquet-write <spec.json> <out.parquet>`

async function main(argv) {
  const [cmd, ...args] = argv
  if (cmd === 'read' && args.length === 2 && args[0] === 'duckdb') return readDuckdb(args[1])
  if (cmd === 'read' && args.length === 2 && args[0] === 'hyparquet') return readHyparquet(args[1])
  if (cmd === 'meta' && args.length === 1) return meta(args[0])
  if (cmd === 'duckdb-sql' && args.length === 1) return duckdbSql(args[0])
  if (cmd === 'hyparquet-write' && args.length === 2) return hyparquetWrite(args[0], args[1])
  process.stderr.write(USAGE + '\n')
  process.exitCode = 2
}

try {
  await main(process.argv.slice(2))
  out.flush()
} catch (e) {
  out.flush()
  // the stack only with PARQUET_ORACLE_DEBUG=1: most errors are about the file or the arguments
  process.stderr.write(`parquet_oracle: ${process.env.PARQUET_ORACLE_DEBUG ? e?.stack ?? e : e?.message ?? e}\n`)
  process.exitCode = 1
}
