// A real browser for the web UI tests: Debian's chromium (installed by .ci/run) driven by
// playwright-core, headless, with its own fresh profile and nothing that reaches the network on
// its own. axe-core is injected into pages for the accessibility check.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {chromium, type BrowserContext, type Page} from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`
}

export interface TestBrowser {
  context: BrowserContext
  /** A new tab in the given colour scheme (prefers-color-scheme) and viewport. */
  page(opts?: {colorScheme?: 'light' | 'dark'; width?: number; height?: number}): Promise<Page>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<TestBrowser> {
  // A fresh profile every run (playwright takes it as the persistent context's directory).
  const profile = mkdtempSync(join(tmpdir(), 'coord-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: {width: 1280, height: 800},
  })
  return {
    context,
    page: async (opts = {}) => {
      const page = await context.newPage()
      await page.setViewportSize({width: opts.width ?? 1280, height: opts.height ?? 800})
      await page.emulateMedia({colorScheme: opts.colorScheme ?? 'light'})
      return page
    },
    close: async () => {
      await context.close()
      rmSync(profile, {recursive: true, force: true})
    },
  }
}

const require = createRequire(import.meta.url)
const axeSource = () => readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{target: unknown[]; failureSummary?: string}>
}

/** Runs axe-core (WCAG 2 A/AA rules) on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the UI's Content-Security-Policy (no inline scripts) stays on.
  await page.evaluate(axeSource())
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as {axe: {run(context: unknown, options: unknown): Promise<{violations: AxeViolation[]}>}}).axe
    const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
    return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target, failureSummary: n.failureSummary}))}))
  })
}
