import {randomBytes} from 'node:crypto'
import {BaseCommand} from '../lib/cli/base-command.js'

export default class Keygen extends BaseCommand {
  static description = 'Generates a new encryption key that can be used to configure the agent to encrypt traffic. The output of this command is already in the proper format that the agent expects.'
  static usage = 'keygen'
  static examples = ['coord keygen', 'coord agent -encrypt="$(coord keygen)" ...']
  static flags = {}

  protected async run(): Promise<void> {
    this.parse(Keygen.flags)
    this.io.out(randomBytes(32).toString('base64'))
  }
}
