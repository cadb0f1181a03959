// DNS with ACLs on (Consul's DNS server resolves the agent's default token, else the anonymous
// token): a catalog that answers only what that token may read. A service instance needs
// service:read on its service and node:read on its node; a node needs node:read (Consul's
// filterServiceNodes / filterNodes). `authorizer` is asked on every lookup, so a token or policy
// change applies to the next query (a client agent's may ask its servers first); when it throws (the default token is unknown) nothing is answered.
import type {Authorizer} from '../acl/authorizer.js'
import type {CatalogReadOptions, DnsCatalog, NodeRecord, ServiceInstance} from './catalog.js'

export class AclDnsCatalog implements DnsCatalog {
  constructor(private readonly inner: DnsCatalog, private readonly authorizer: () => Authorizer | Promise<Authorizer>) {}

  async serviceInstances(service: string, opts: CatalogReadOptions): Promise<ServiceInstance[]> {
    const instances = await this.inner.serviceInstances(service, opts)
    const authz = await this.authorizer()
    return instances.filter((i) => authz.allowed('service', i.service, 'read') && authz.allowed('node', i.node, 'read'))
  }

  async node(name: string, opts: CatalogReadOptions): Promise<NodeRecord | undefined> {
    const node = await this.inner.node(name, opts)
    if (node === undefined) return undefined
    return (await this.authorizer()).allowed('node', node.node, 'read') ? node : undefined
  }

  async nodes(opts: CatalogReadOptions): Promise<NodeRecord[]> {
    const nodes = await this.inner.nodes(opts)
    const authz = await this.authorizer()
    return nodes.filter((n) => authz.allowed('node', n.node, 'read'))
  }
}
