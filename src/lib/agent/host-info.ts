// /v1/agent/host in Consul's shape (agent/debug/host.go: gopsutil's host, memory, CPU and disk
// usage of "/", the collection time in ns, errors), from Node's os and fs modules and, on Linux,
// /proc/meminfo and /etc/os-release for what os does not tell. Fields gopsutil fills from places
// coord does not read are left at their zero values.
import {arch, cpus, freemem, hostname, release, totalmem, uptime, type CpuInfo} from 'node:os'
import {readFileSync, statfsSync} from 'node:fs'

export interface HostInfo {
  Memory: Record<string, number> | null
  CPU: Array<Record<string, unknown>> | null
  Host: Record<string, unknown> | null
  Disk: Record<string, unknown> | null
  CollectionTime: number
  Errors: string[] | null
}

export function collectHostInfo(now: number = Date.now()): HostInfo {
  const errors: string[] = []
  const attempt = <T>(what: string, read: () => T): T | null => {
    try {
      return read()
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`)
      return null
    }
  }
  return {
    Memory: attempt('memory', memory),
    CPU: attempt('cpu', () => cpus().map(cpuInfo)),
    Host: attempt('host', host),
    Disk: attempt('disk', () => disk('/')),
    CollectionTime: now * 1e6,
    Errors: errors.length > 0 ? errors : null,
  }
}

function meminfo(): Map<string, number> {
  const out = new Map<string, number>()
  let text = ''
  try { text = readFileSync('/proc/meminfo', 'utf8') } catch { return out }
  for (const line of text.split('\n')) {
    const match = /^(\S+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim())
    if (match) out.set(match[1], Number(match[2]) * (line.includes('kB') ? 1024 : 1))
  }
  return out
}

function memory(): Record<string, number> {
  const info = meminfo()
  const total = totalmem()
  const free = freemem()
  const available = info.get('MemAvailable') ?? free
  const used = total - available
  return {
    total, available, used, usedPercent: total > 0 ? (used / total) * 100 : 0, free,
    active: info.get('Active') ?? 0, inactive: info.get('Inactive') ?? 0, wired: 0, laundry: 0,
    buffers: info.get('Buffers') ?? 0, cached: info.get('Cached') ?? 0, writeBack: info.get('Writeback') ?? 0,
    dirty: info.get('Dirty') ?? 0, writeBackTmp: info.get('WritebackTmp') ?? 0, shared: info.get('Shmem') ?? 0,
    slab: info.get('Slab') ?? 0, sreclaimable: info.get('SReclaimable') ?? 0, sunreclaim: info.get('SUnreclaim') ?? 0,
    pageTables: info.get('PageTables') ?? 0, swapCached: info.get('SwapCached') ?? 0, commitLimit: info.get('CommitLimit') ?? 0,
    committedAS: info.get('Committed_AS') ?? 0, highTotal: 0, highFree: 0, lowTotal: 0, lowFree: 0,
    swapTotal: info.get('SwapTotal') ?? 0, swapFree: info.get('SwapFree') ?? 0, mapped: info.get('Mapped') ?? 0,
    vmallocTotal: info.get('VmallocTotal') ?? 0, vmallocUsed: info.get('VmallocUsed') ?? 0, vmallocChunk: info.get('VmallocChunk') ?? 0,
    hugePagesTotal: info.get('HugePages_Total') ?? 0, hugePagesFree: info.get('HugePages_Free') ?? 0, hugePageSize: info.get('Hugepagesize') ?? 0,
  }
}

function cpuInfo(cpu: CpuInfo, index: number): Record<string, unknown> {
  return {
    cpu: index, vendorId: '', family: '', model: '', stepping: 0, physicalId: '', coreId: String(index), cores: 1,
    modelName: cpu.model, mhz: cpu.speed, cacheSize: 0, flags: [], microcode: '',
  }
}

function osRelease(): Map<string, string> {
  const out = new Map<string, string>()
  let text = ''
  try { text = readFileSync('/etc/os-release', 'utf8') } catch { return out }
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim())
    if (match) out.set(match[1], match[2].replace(/^"|"$/g, ''))
  }
  return out
}

function host(): Record<string, unknown> {
  const os = osRelease()
  const up = Math.floor(uptime())
  let hostId = ''
  try { hostId = readFileSync('/etc/machine-id', 'utf8').trim() } catch { hostId = '' }
  return {
    hostname: hostname(), uptime: up, bootTime: Math.floor(Date.now() / 1000) - up, procs: 0,
    os: process.platform, platform: os.get('ID') ?? '', platformFamily: os.get('ID_LIKE') ?? os.get('ID') ?? '',
    platformVersion: os.get('VERSION_ID') ?? '', kernelVersion: release(), kernelArch: arch() === 'x64' ? 'x86_64' : arch(),
    virtualizationSystem: '', virtualizationRole: '', hostId,
  }
}

function disk(path: string): Record<string, unknown> {
  const stats = statfsSync(path)
  const total = stats.blocks * stats.bsize
  const free = stats.bavail * stats.bsize
  const used = (stats.blocks - stats.bfree) * stats.bsize
  const inodesUsed = stats.files - stats.ffree
  return {
    path, fstype: fsType(path), total, free, used, usedPercent: used + free > 0 ? (used / (used + free)) * 100 : 0,
    inodesTotal: stats.files, inodesUsed, inodesFree: stats.ffree, inodesUsedPercent: stats.files > 0 ? (inodesUsed / stats.files) * 100 : 0,
  }
}

/** The file system type of the mount at `path`, from /proc/mounts (the last mount there wins). */
function fsType(path: string): string {
  let text = ''
  try { text = readFileSync('/proc/mounts', 'utf8') } catch { return '' }
  let type = ''
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    if (fields[1] === path && fields[2]) type = fields[2]
  }
  return type
}
