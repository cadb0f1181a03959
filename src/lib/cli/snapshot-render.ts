// `snapshot inspect` output as Consul's command/snapshot/inspect/formatter.go writes it: a
// text/tabwriter (minwidth 8, padding 6) block of metadata, the per-type table, and with -kvdetails
// the per-prefix table; or the same data as JSON indented with three spaces.
import type {SnapshotMeta} from '../snapshot/archive.js'
import type {SnapshotStats} from '../snapshot/stats.js'
import {tabwrite} from './render.js'
import {stringifyJson} from '../json.js'

export interface InspectOutput extends SnapshotStats {
  Meta: {ID: string; Size: number; Index: number; Term: number; Version: number}
}

export function inspectOutput(meta: SnapshotMeta, stats: SnapshotStats): InspectOutput {
  return {
    Meta: {ID: meta.ID, Size: Number(meta.Size ?? 0), Index: meta.Index, Term: meta.Term, Version: Number(meta.Version ?? 0)},
    ...stats,
  }
}

export function renderInspectPretty(info: InspectOutput): string {
  const lines = [
    ` ID\t${info.Meta.ID}`,
    ` Size\t${info.Meta.Size}`,
    ` Index\t${info.Meta.Index}`,
    ` Term\t${info.Meta.Term}`,
    ` Version\t${info.Meta.Version}`,
    '',
    ' Type\tCount\tSize',
    ' ----\t----\t----',
    ...info.Stats.map((s) => ` ${s.Name}\t${s.Count}\t${byteSize(s.Sum)}`),
    ' ----\t----\t----',
    ` Total\t\t${byteSize(info.TotalSize)}`,
  ]
  if (info.StatsKV !== null) {
    lines.push('', ' Key Name\tCount\tSize', ' ----\t----\t----')
    lines.push(...info.StatsKV.map((s) => ` ${s.Name}\t${s.Count}\t${byteSize(s.Sum)}`))
    lines.push(' ----\t----\t----', ` Total\t\t${byteSize(info.TotalSizeKV)}`)
  }
  return tabwrite(lines.join('\n'), {minwidth: 8, padding: 6})
}

/**
 * The same data as tables for a person at a terminal (terminal.ts boxTable): metadata, records by
 * type, and with -kvdetails the per-prefix breakdown; each as [head, rows].
 */
export function inspectTables(info: InspectOutput): Array<[string[], string[][]]> {
  const tables: Array<[string[], string[][]]> = [
    [['Field', 'Value'], [['ID', info.Meta.ID], ['Size', String(info.Meta.Size)], ['Index', String(info.Meta.Index)], ['Term', String(info.Meta.Term)], ['Version', String(info.Meta.Version)]]],
    [['Type', 'Count', 'Size'], [...info.Stats.map((s) => [s.Name, String(s.Count), byteSize(s.Sum)]), ['Total', '', byteSize(info.TotalSize)]]],
  ]
  if (info.StatsKV !== null) {
    tables.push([['Key Name', 'Count', 'Size'], [...info.StatsKV.map((s) => [s.Name, String(s.Count), byteSize(s.Sum)]), ['Total', '', byteSize(info.TotalSizeKV)]]])
  }
  return tables
}

/** Go's json.MarshalIndent(info, "", "   "), field order as Consul's OutputFormat. */
export function renderInspectJson(info: InspectOutput): string {
  const {Meta, Stats, StatsKV, TotalSize, TotalSizeKV} = info
  return stringifyJson({Meta, Stats, StatsKV, TotalSize, TotalSizeKV}, 3)
}

/** Consul's ByteSize: one decimal, ".0" dropped, binary units; "0" for zero. */
export function byteSize(bytes: number): string {
  const units: Array<[number, string]> = [[2 ** 40, 'TB'], [2 ** 30, 'GB'], [2 ** 20, 'MB'], [2 ** 10, 'KB'], [1, 'B']]
  if (bytes === 0) return '0'
  for (const [size, unit] of units) {
    if (bytes >= size) return `${(bytes / size).toFixed(1).replace(/\.0$/, '')}${unit}`
  }
  return '0'
}
