// `members` filtering, sorting and columns (Consul docs: commands/members), as Consul's command does them.
import type {AgentMember} from '../api/agent.js'
import {columnize} from './render.js'

const statusNames = ['none', 'alive', 'leaving', 'left', 'failed']

export function memberStatus(status: number): string {
  return statusNames[status] ?? `unknown(${status})`
}

/** Go's net.TCPAddr.String(): `ip:port`, `[v6]:port`. */
export function memberAddress(member: AgentMember): string {
  return member.Addr.includes(':') ? `[${member.Addr}]:${member.Port}` : `${member.Addr}:${member.Port}`
}

/** Fills the tags Consul fills (ap=default; segment=<all> on servers when no -segment), keeps status matches, sorts. */
export function selectMembers(members: AgentMember[], statusRe: RegExp, segment: string): AgentMember[] {
  const selected = members.map((m) => {
    const tags = {...m.Tags}
    if (!tags.ap) tags.ap = 'default'
    if (segment === '' && tags.role === 'consul') tags.segment = '<all>'
    return {...m, Tags: tags}
  }).filter((m) => statusRe.test(memberStatus(m.Status)))
  return selected.sort(compareMembers)
}

/** ByMemberNameAndSegment: servers, default partition, partition, segment, name. */
function compareMembers(a: AgentMember, b: AgentMember): number {
  const server = Number(b.Tags.role === 'consul') - Number(a.Tags.role === 'consul')
  if (server !== 0) return server
  const byDefault = Number(b.Tags.ap === 'default') - Number(a.Tags.ap === 'default')
  if (byDefault !== 0) return byDefault
  return cmp(a.Tags.ap, b.Tags.ap) || cmp(a.Tags.segment ?? '', b.Tags.segment ?? '') || cmp(a.Name, b.Name)
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Colours the Status column (row 0 is the header); identity when `status` is absent. */
function statusColumn(column: number, status?: (word: string) => string) {
  return status && ((cell: string, row: number, i: number) => (row > 0 && i === column ? status(cell) : cell))
}

/** `status` styles the status words (terminal.ts palette); without it the bytes are Consul's. */
export function renderMembers(members: AgentMember[], status?: (word: string) => string): string[] {
  const rows = [['Node', 'Address', 'Status', 'Type', 'Build', 'Protocol', 'DC', 'Partition', 'Segment']]
  for (const m of members) {
    const address = memberAddress(m)
    const status = memberStatus(m.Status)
    const rawBuild = m.Tags.build ?? ''
    const build = rawBuild === '' ? '< 0.3' : rawBuild.split(':')[0]
    const partition = m.Tags.ap ?? ''
    let segment = m.Tags.segment ?? ''
    if (m.Tags.role === 'node') {
      if (segment === '' && partition === 'default') segment = '<default>'
      rows.push([m.Name, address, status, 'client', build, m.Tags.vsn ?? '', m.Tags.dc ?? '', partition, segment])
    } else if (m.Tags.role === 'consul') {
      rows.push([m.Name, address, status, 'server', build, m.Tags.vsn ?? '', m.Tags.dc ?? '', partition, segment])
    } else {
      rows.push([m.Name, address, status, 'unknown', '', '', '', '', ''])
    }
  }
  return columnize(rows, statusColumn(2, status))
}

export function renderMembersDetailed(members: AgentMember[], status?: (word: string) => string): string[] {
  const rows = [['Node', 'Address', 'Status', 'Tags']]
  for (const m of members) {
    const tags = Object.keys(m.Tags).sort().map((k) => `${k}=${m.Tags[k]}`).join(',')
    rows.push([m.Name, memberAddress(m), memberStatus(m.Status), tags])
  }
  return columnize(rows, statusColumn(2, status))
}
