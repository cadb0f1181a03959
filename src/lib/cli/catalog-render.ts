// `coord catalog nodes|services` output as Consul's command/catalog/list/* prints it: nodes through
// columnize (short ID = the node ID up to its first '-'; -detailed adds TaggedAddresses and Meta as
// sorted k=v pairs), services one per line or, with -tags, Go's tabwriter (padding 6).
import type {CatalogNode} from '../api/catalog.js'
import {FlagError} from './errors.js'
import {columnize, tabwrite} from './render.js'

function mapToKV(map: Record<string, string> | null | undefined): string {
  return Object.keys(map ?? {}).sort().map((key) => `${key}=${map![key]}`).join(', ')
}

export function renderCatalogNodes(nodes: readonly CatalogNode[], detailed: boolean): string[] {
  const rows = detailed
    ? [['Node', 'ID', 'Address', 'DC', 'TaggedAddresses', 'Meta'],
      ...nodes.map((n) => [n.Node, n.ID, n.Address, n.Datacenter, mapToKV(n.TaggedAddresses), mapToKV(n.Meta)])]
    : [['Node', 'ID', 'Address', 'DC'],
      ...nodes.map((n) => [n.Node, n.ID.indexOf('-') > 0 ? n.ID.slice(0, n.ID.indexOf('-')) : n.ID, n.Address, n.Datacenter])]
  return columnize(rows)
}

export function renderCatalogServices(services: Record<string, string[]>, withTags: boolean): string[] {
  const names = Object.keys(services).sort()
  if (!withTags) return names
  const text = names.map((name) => `${name}\t${[...(services[name] ?? [])].sort().join(',')}\n`).join('')
  return [tabwrite(text, {padding: 6}).trim()]
}

/** -node-meta key=value (repeatable) → the API's `key:value` query values. */
export function nodeMetaQuery(values: readonly string[]): string[] {
  return values.map((value) => {
    const at = value.indexOf('=')
    if (at === -1) throw new FlagError(`invalid value "${value}" for flag -node-meta: Missing "=" value in argument: ${value}`)
    return `${value.slice(0, at)}:${value.slice(at + 1)}`
  })
}
