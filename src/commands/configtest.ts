import Validate from './validate.js'

/** `consul configtest`, the older name of `validate`. */
export default class ConfigTest extends Validate {
  static override description = 'The older name of `validate`: checks the agent configuration files without starting an agent.'
  static override usage = 'configtest [options] FILE_OR_DIRECTORY...'
  static override examples = ['coord configtest /etc/consul.d']
}
