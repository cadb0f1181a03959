// The web UI's files, served under ui_config.content_path (default /ui/) as Consul's agent does:
// `/` redirects there (301), a path naming a file gets the file, and any other path under it gets
// index.html so the browser-side router can show the page a shared URL names. The built-in UI is
// dist/ui (written by `npm run build`, scripts/build-ui.js); ui_config.dir / -ui-dir serves another
// directory instead. index.html learns the content path from a placeholder replaced here.
import {readFile, stat} from 'node:fs/promises'
import {dirname, extname, join, resolve, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {sendBody, sendText} from './respond.js'

/** What scripts/build-ui.js writes into index.html where the content path belongs. */
export const CONTENT_PATH_PLACEHOLDER = '__COORD_CONTENT_PATH__'

const here = dirname(fileURLToPath(import.meta.url))
/** dist/ui from dist/src/lib/http (built) or from src/lib/http (under tsx): the built assets either way. */
export const BUILT_IN_UI_DIR = here.includes(`${sep}dist${sep}src${sep}`) ? resolve(here, '../../../ui') : resolve(here, '../../../dist/ui')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.ico': 'image/x-icon',
  '.webp': 'image/webp', '.woff': 'font/woff', '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
}

// The built-in UI loads only its own files and talks only to this agent; a page from -ui-dir is the
// operator's own and gets no policy from us.
const BUILT_IN_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

export interface UiAssets {
  readonly contentPath: string
  readonly dir: string
  /** Answers the request if it is the UI's (or `/`); false leaves it to the API routes. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>
}

/** The UI of an agent with ui_config.enabled or ui_config.dir, or undefined when it serves none. */
export function uiAssets(config: {ui: boolean; uiDir: string; uiContentPath: string}): UiAssets | undefined {
  if (!config.ui && config.uiDir === '') return undefined
  const builtIn = config.uiDir === ''
  const dir = resolve(builtIn ? BUILT_IN_UI_DIR : config.uiDir)
  const contentPath = config.uiContentPath
  const cache = new Map<string, Buffer>()

  const load = async (file: string): Promise<Buffer | undefined> => {
    const cached = cache.get(file)
    if (cached) return cached
    try {
      if (!(await stat(file)).isFile()) return undefined
      const data = await readFile(file)
      // Built-in assets change only with a rebuild; an operator's directory may change under us.
      if (builtIn) cache.set(file, data)
      return data
    } catch {
      return undefined
    }
  }

  const send = (req: IncomingMessage, res: ServerResponse, file: string, data: Buffer) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Cache-Control', 'no-cache')
    if (builtIn) res.setHeader('Content-Security-Policy', BUILT_IN_CSP)
    sendBody(req, res, 200, data, CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
  }

  return {
    contentPath,
    dir,
    async handle(req, res, path) {
      if (path === '/' && contentPath !== '/') {
        res.setHeader('Location', contentPath)
        sendText(req, res, 301, '')
        return true
      }
      if (path === contentPath.slice(0, -1) && path !== '') {
        res.setHeader('Location', contentPath)
        sendText(req, res, 301, '')
        return true
      }
      if (!path.startsWith(contentPath)) return false
      const method = req.method ?? 'GET'
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('Allow', 'GET,HEAD')
        sendText(req, res, 405, `method ${method} not allowed: the web UI's files are read-only`)
        return true
      }
      const segments = path.slice(contentPath.length).split('/').filter((s) => s !== '')
      // Only plain names: '..' and friends never leave the directory.
      const plain = segments.every((s) => s !== '.' && s !== '..' && !s.includes('\\') && !s.includes('\0'))
      if (plain && segments.length > 0) {
        const file = join(dir, ...segments)
        if (file.startsWith(dir + sep)) {
          const data = await load(file)
          if (data) {
            send(req, res, file, data)
            return true
          }
        }
        // A missing asset is a 404, not the page: a browser must not run HTML as a script.
        if (segments[0] === 'assets') {
          sendText(req, res, 404, `no such UI asset: ${segments.join('/')}`)
          return true
        }
      }
      const index = join(dir, 'index.html')
      const page = await load(index)
      if (!page) {
        sendText(req, res, 404, builtIn
          ? `the web UI is not built (no ${index}): run npm run build`
          : `ui_config.dir has no index.html (${index})`)
        return true
      }
      send(req, res, index, Buffer.from(page.toString('utf8').replaceAll(CONTENT_PATH_PLACEHOLDER, contentPath)))
      return true
    },
  }
}
