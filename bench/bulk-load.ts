// The bulk writer of the scale section, the same for coord and etcd: `count` JSON requests, a fixed
// number in flight, each answer read whole and checked for 200. It sends through undici's Pool
// (one connection per request in flight), not fetch: fetch's per-request cost took ~80 % of one of
// the box's two cores at ~1,000 txns/s, so the loop delay the bench reports of the server was as
// much the box's contention as the server's own work.
import {Pool} from 'undici'

export async function sendInFlight(origin: string, method: 'PUT' | 'POST', path: string, count: number, body: (i: number) => string, inFlight = 16): Promise<void> {
  const pool = new Pool(origin, {connections: inFlight})
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const res = await pool.request({method, path, body: body(i), headers: {'content-type': 'application/json'}})
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`${method} ${path} #${i}: ${res.statusCode} ${text}`)
    }
  }
  try {
    await Promise.all(Array.from({length: inFlight}, worker))
  } finally {
    await pool.close()
  }
}
