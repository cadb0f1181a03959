// The error code behind an HTTP error answer, remembered per response object. A direct client reads
// only Consul's status and text; a coord agent that ran the request for another agent (dispatch.ts)
// sends the code along in the forwarded answer, so the asker branches on the code, not the text.

const codes = new WeakMap<object, string>()

export function noteErrorCode(res: object, code: string): void {
  codes.set(res, code)
}

export function errorCodeOf(res: object): string | undefined {
  return codes.get(res)
}
