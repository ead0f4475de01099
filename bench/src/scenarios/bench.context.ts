import type { BenchArgs } from '../bench.args';
import type { BenchPlan } from '../bench.plan';
import type { MqimTarget } from '../targets/mqim.target';

/** What every scenario gets from the orchestrator. */
export interface BenchContext {
  args: BenchArgs;
  plan: BenchPlan;
  /** Run id (UTC timestamp), shared by every file this run writes. */
  run: string;
  /**
   * An mqim deployment for one scenario: a fresh standalone child, or the run's shared cluster
   * (`fresh`: a new cluster, for measurements that a used process would skew, like RSS). With
   * `env` (extra server environment) the deployment is always a new one of the scenario's own.
   */
  startMqim(
    scenario: string,
    options?: { fresh?: boolean; env?: Record<string, string> },
  ): Promise<MqimTarget>;
}

export interface ScenarioOutcome {
  figures: Record<string, unknown>;
  /** Caveats a reader must know: caps applied, systems skipped, contention. */
  notes: string[];
}
