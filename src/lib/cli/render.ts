// Plain-text layouts Consul's CLI produces: Go's text/tabwriter (kv get -detailed, catalog ...)
// and ryanuber/columnize (members), plus JSON for -format=json.

/** Go text/tabwriter with pad char ' ' and no flags: a cell ends at '\t'; trailing text is not a cell. */
export function tabwrite(text: string, options: {minwidth?: number; padding?: number} = {}): string {
  const minwidth = options.minwidth ?? 0
  const padding = options.padding ?? 1
  const lines = text.split('\n').map((line) => line.split('\t'))
  const widths: number[] = []
  const out: string[] = []
  const width = (cell: string): number => [...cell].length
  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i]
      let rendered = ''
      for (let j = 0; j < cells.length; j++) {
        if (j < cells.length - 1 && j < widths.length) rendered += cells[j] + ' '.repeat(Math.max(0, widths[j] - width(cells[j])))
        else rendered += cells[j]
      }
      out.push(rendered)
    }
  }
  const format = (line0: number, line1: number): void => {
    const column = widths.length
    for (let current = line0; current < line1; current++) {
      if (column >= lines[current].length - 1) continue
      writeLines(line0, current)
      line0 = current
      let w = minwidth
      for (; current < line1; current++) {
        const cells = lines[current]
        if (column >= cells.length - 1) break
        w = Math.max(w, width(cells[column]) + padding)
      }
      widths.push(w)
      format(line0, current)
      widths.pop()
      line0 = current
    }
    writeLines(line0, line1)
  }
  format(0, lines.length)
  return out.join('\n')
}

/**
 * columnize with glue "  ": every column padded to its widest cell, trailing spaces trimmed.
 * `style` (colour on a terminal) wraps a cell's text after the widths are measured on the plain
 * text, so escape codes never shift a column; without it the bytes are Consul's.
 */
export function columnize(rows: string[][], style?: (cell: string, row: number, column: number) => string): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, [...cell].length) })
  return rows.map((row, r) => row.map((cell, i) => {
    const text = style ? style(cell, r, i) : cell
    return i === row.length - 1 ? text : text + ' '.repeat(widths[i] - [...cell].length)
  }).join('  ').trimEnd())
}

