// The replicated autopilot configuration (Consul's structs.AutopilotConfig, stored by the
// Operator.AutopilotSetConfiguration RPC): absent until the first leader seeds it from its agent's
// `autopilot` block, then changed only through PUT /v1/operator/autopilot/configuration (with ?cas=).
// Durations are milliseconds here; the HTTP edge renders them as Go durations.

export interface AutopilotConfig {
  cleanupDeadServers: boolean
  lastContactThresholdMs: number
  maxTrailingLogs: number
  minQuorum: number
  serverStabilizationTimeMs: number
  /** Enterprise settings Consul keeps in the same record; coord stores what was sent. */
  redundancyZoneTag: string
  disableUpgradeMigration: boolean
  upgradeVersionTag: string
}

export interface StoredAutopilotConfig extends AutopilotConfig {
  createIndex: number
  modifyIndex: number
}

/** `autopilot-set`: write unless `cas` is given and differs from the stored ModifyIndex (0 = only if absent). */
export interface AutopilotSetOp {
  config: AutopilotConfig
  cas?: number
}

export class AutopilotConfigTable {
  #stored: StoredAutopilotConfig | undefined

  get(): StoredAutopilotConfig | undefined {
    return this.#stored
  }

  /** Applies a set at `index`; false when the check-and-set did not match (nothing changed). */
  set(index: number, op: AutopilotSetOp): boolean {
    if (op.cas !== undefined && op.cas !== (this.#stored?.modifyIndex ?? 0)) return false
    this.#stored = {...op.config, createIndex: this.#stored?.createIndex ?? index, modifyIndex: index}
    return true
  }

  dump(): StoredAutopilotConfig | undefined {
    return this.#stored && {...this.#stored}
  }

  static load(dump: StoredAutopilotConfig | undefined, at: (n: number) => number): AutopilotConfigTable {
    const table = new AutopilotConfigTable()
    if (dump) table.#stored = {...dump, createIndex: at(dump.createIndex), modifyIndex: at(dump.modifyIndex)}
    return table
  }
}
