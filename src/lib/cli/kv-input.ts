// DATA arguments of `kv put` and `kv import` (Consul docs: commands/kv, §2.5): literal, `@file`, `-` for stdin.
import {CommandError} from './errors.js'
import {readFileGo} from './go-compat.js'
import type {IO} from './io.js'

/** Resolves a DATA argument to bytes; errors carry Consul's `Error! ...` text. */
export async function readDataArg(data: string, io: IO): Promise<Buffer> {
  if (data.startsWith('@')) {
    try {
      return await readFileGo(data.slice(1))
    } catch (error) {
      throw new CommandError(`Error! Failed to read file: ${(error as Error).message}`, {cause: error})
    }
  }
  if (data === '-') {
    try {
      return await io.readStdin()
    } catch (error) {
      throw new CommandError(`Error! Failed to read stdin: ${(error as Error).message}`, {cause: error})
    }
  }
  return Buffer.from(data)
}
