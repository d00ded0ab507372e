import { performance } from 'node:perf_hooks';
import type { LocalElbv2 } from '../../src/local/elbv2/simulator.ts';
import type { TargetHealthState } from '../../src/local/elbv2/types.ts';

type State = TargetHealthState | 'gone';

/**
 * Every target's health over time, as the local ELBv2 reports it (onChange), on the same clock
 * as the load's requests (performance.now()). Answers whether a target was healthy at any
 * moment of a request's life, which is when the router may have leased it.
 */
export class HealthHistory {
  readonly #changes = new Map<string, { at: number; state: State }[]>();
  readonly #unsubscribe: () => void;

  constructor(elbv2: LocalElbv2, targetGroupArns: readonly string[]) {
    const at = performance.now();
    for (const targetGroupArn of targetGroupArns) {
      for (const target of elbv2.targetHealth(targetGroupArn)) {
        this.#record(targetGroupArn, `${target.id}:${target.port}`, at, target.state);
      }
    }
    this.#unsubscribe = elbv2.onChange((change) => {
      if (change.type === 'listener') return;
      const key = `${change.target.id}:${change.target.port}`;
      const state: State =
        change.type === 'health' ? change.state : change.type === 'registered' ? 'initial' : 'gone';
      this.#record(change.targetGroupArn, key, performance.now(), state);
    });
  }

  /** Whether `target` (`host:port`) of the group was healthy at some moment in [from, to]. */
  healthyDuring(targetGroupArn: string, target: string, from: number, to: number): boolean {
    const changes = this.#changes.get(`${targetGroupArn}|${target}`) ?? [];
    let stateAtFrom: State | undefined;
    for (const change of changes) {
      if (change.at <= from) stateAtFrom = change.state;
      else if (change.at <= to && change.state === 'healthy') return true;
    }
    return stateAtFrom === 'healthy';
  }

  stop(): void {
    this.#unsubscribe();
  }

  #record(targetGroupArn: string, target: string, at: number, state: State): void {
    const key = `${targetGroupArn}|${target}`;
    const changes = this.#changes.get(key) ?? [];
    changes.push({ at, state });
    this.#changes.set(key, changes);
  }
}
