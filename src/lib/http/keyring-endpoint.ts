// /v1/operator/keyring (Consul's OperatorKeyringEndpoint, agent/operator_endpoint.go): GET lists, POST installs,
// PUT makes primary, DELETE removes, body {"Key": "<base64>"}; ?relay-factor=0..5 and
// ?local-only (GET only). Runs on the agent that receives it: the agent fans the
// operation out to every member of its gossip pools (agent/keyring-ops.ts). Any pool reporting a
// failure answers 500 with Consul's multierror text, as Consul does.
import type {AgentDeps, RequestContext, Route} from './context.js'
import {HttpError, badRequest} from '../errors.js'
import {field, isObject, parseJsonBody} from './decode.js'
import {sendJson, sendText} from './respond.js'
import {keyringErrors, type KeyringOp} from '../agent/keyring-ops.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type KeyringDeps = AgentDeps<'keyringOperation'>


const BODY_LIMIT = 64 * 1024

export function keyringRoutes(agent: KeyringDeps): Route[] {
  const handle = (op: KeyringOp) => (ctx: RequestContext) => keyring(agent, ctx, op)
  return [{path: '/v1/operator/keyring', exact: true, methods: {GET: handle('list'), POST: handle('install'), PUT: handle('use'), DELETE: handle('remove')}}]
}

async function keyring(agent: KeyringDeps, ctx: RequestContext, op: KeyringOp): Promise<void> {
  let key = ''
  if (op !== 'list') {
    const body = await ctx.body(BODY_LIMIT)
    const parsed = body.length === 0 ? {} : parseJsonBody(body, 'body')
    if (!isObject(parsed)) throw badRequest('Request decode failed: the body must be a JSON object with a Key')
    const value = field(parsed, 'Key')
    if (value !== undefined && value !== null && typeof value !== 'string') throw badRequest('Request decode failed: Key must be a string')
    key = typeof value === 'string' ? value : ''
    if (key === '') throw badRequest('Request decode failed: Key is required (a base64 gossip key, see coord keygen)')
  }
  const {relayFactor, localOnly} = keyringParams(ctx.params, op)
  if (!agent.keyringOperation) throw new HttpError(500, 'keyring operations need gossip (ports.serf_lan is -1)', 'KEYRING_NO_GOSSIP')
  const responses = await agent.keyringOperation(op, key, {relayFactor, localOnly})
  const errors = keyringErrors(responses)
  if (errors) throw new HttpError(500, errors, 'KEYRING_FAILED')
  if (op === 'list') sendJson(ctx.req, ctx.res, responses, ctx.query.pretty)
  else sendText(ctx.req, ctx.res, 200, '')
}

/** ?relay-factor and ?local-only with Consul's checks and messages. */
export function keyringParams(params: URLSearchParams, op: KeyringOp): {relayFactor: number; localOnly: boolean} {
  let relayFactor = 0
  const relay = params.get('relay-factor')
  if (relay !== null && relay !== '') {
    if (!/^[+-]?\d+$/.test(relay)) throw badRequest(`Error parsing relay factor: strconv.Atoi: parsing ${JSON.stringify(relay)}: invalid syntax`)
    relayFactor = Number(relay)
    if (relayFactor < 0 || relayFactor > 5) throw badRequest('Invalid relay-factor: Relay factor must be in range: [0, 5]')
  }
  let localOnly = false
  const local = params.get('local-only')
  if (local !== null && local !== '') {
    const truthy = ['1', 't', 'T', 'TRUE', 'true', 'True']
    const falsy = ['0', 'f', 'F', 'FALSE', 'false', 'False']
    if (!truthy.includes(local) && !falsy.includes(local)) throw badRequest(`Error parsing local-only: strconv.ParseBool: parsing ${JSON.stringify(local)}: invalid syntax`)
    localOnly = truthy.includes(local)
    if (localOnly && op !== 'list') throw badRequest('Invalid use of local-only: local-only can only be set for list requests')
  }
  return {relayFactor, localOnly}
}
