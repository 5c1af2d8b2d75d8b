/**
 * The daemon registry: validated specs and the one dependency table. Validation happens at
 * registration, before anything starts: unknown types and events, unknown and self dependencies,
 * and cycles are errors that name the daemons involved.
 */
import { DependencyCycleError, InvalidDaemonSpecError } from '../errors.js';
import { resolveEventType } from '../events/aliases.js';
import { CATALOG, type EventName } from '../events/catalog/index.js';
import type { DaemonSpec } from '../machines/daemon-spec.js';
import { handledEvents } from '../machines/protocol.js';
import { planStart, type StartPlan } from '../machines/start-plan.js';
import { DAEMON_TYPES, type DaemonTypeInfo, PROFILES } from './daemon-types.js';

export interface RegisteredDaemon {
  readonly spec: DaemonSpec;
  readonly type: string;
  readonly dependsOn: readonly string[];
  readonly softDependsOn: readonly string[];
  readonly critical: boolean;
  readonly startupOrder: number | null;
  readonly subscribes: readonly EventName[];
  readonly emits: readonly EventName[];
  readonly localOnly: ReadonlySet<EventName>;
}

export class DaemonRegistry {
  private readonly daemons = new Map<string, RegisteredDaemon>();

  constructor(specs: readonly DaemonSpec[] = []) {
    for (const spec of specs) this.register(spec);
    this.validateDependencies();
  }

  /** Registers one more spec; dependencies are checked by `validateDependencies()`. */
  register(spec: DaemonSpec): RegisteredDaemon {
    const type = spec.type;
    if (!type) throw new InvalidDaemonSpecError(String(type), "'type' is required");
    if (this.daemons.has(type)) throw new InvalidDaemonSpecError(type, 'is registered twice');
    if (typeof spec.machine?.transition !== 'function') {
      throw new InvalidDaemonSpecError(type, "'machine' must be an XState machine");
    }
    if (!spec.machineVersion)
      throw new InvalidDaemonSpecError(type, "'machineVersion' is required");
    const info: DaemonTypeInfo | undefined = DAEMON_TYPES[type as keyof typeof DAEMON_TYPES];
    if (info && (spec.dependsOn || spec.softDependsOn || spec.critical !== undefined)) {
      throw new InvalidDaemonSpecError(
        type,
        'dependencies and the critical flag of the original daemon types come from the registry table (DAEMON_TYPES); remove them from the spec',
      );
    }
    const events = (list: readonly string[], what: string) =>
      list.map((t) => {
        try {
          return resolveEventType(t).name;
        } catch (error) {
          throw new InvalidDaemonSpecError(type, `${what} ${(error as Error).message}`);
        }
      });
    const subscribes = events(spec.subscribes, 'subscribes to');
    const emits = events(spec.emits, 'emits');
    const localOnly = events(spec.localOnly ?? [], 'handles only local');
    const unsubscribed = localOnly.filter((t) => !subscribes.includes(t));
    if (unsubscribed.length > 0) {
      throw new InvalidDaemonSpecError(
        type,
        `'localOnly' names ${unsubscribed.join(', ')}, which it does not subscribe to`,
      );
    }
    if (spec.durable) {
      const local = subscribes.filter((t) => !CATALOG[t].crossProcess);
      if (local.length > 0) {
        throw new InvalidDaemonSpecError(
          type,
          `is durable but subscribes to ${local.join(', ')}, which never reach the event log (not cross-process)`,
        );
      }
    }
    // The machine and its spec must agree: a transition on a catalog event the spec does not
    // subscribe to never fires (the event never reaches the machine), and a subscription without
    // a transition delivers events the machine drops.
    const handled = handledEvents(spec.machine);
    const unheard = handled.filter((t) => t in CATALOG && !subscribes.includes(t as EventName));
    if (unheard.length > 0)
      throw new InvalidDaemonSpecError(
        type,
        `its machine handles ${unheard.join(', ')}, which it does not subscribe to`,
      );
    const unhandled = handled.includes('*') ? [] : subscribes.filter((t) => !handled.includes(t));
    if (unhandled.length > 0)
      throw new InvalidDaemonSpecError(
        type,
        `subscribes to ${unhandled.join(', ')}, which no state of its machine handles`,
      );
    const registered: RegisteredDaemon = {
      spec,
      type,
      dependsOn: info ? info.dependsOn : (spec.dependsOn ?? []),
      softDependsOn: info ? info.softDependsOn : (spec.softDependsOn ?? []),
      critical: info ? info.critical : spec.critical === true,
      startupOrder: info ? info.startupOrder : null,
      subscribes,
      emits,
      localOnly: new Set(localOnly),
    };
    this.daemons.set(type, registered);
    return registered;
  }

  /** @throws {InvalidDaemonSpecError} {DependencyCycleError} */
  validateDependencies(): void {
    for (const d of this.daemons.values()) {
      for (const dep of [...d.dependsOn, ...d.softDependsOn]) {
        if (dep === d.type) throw new InvalidDaemonSpecError(d.type, 'depends on itself');
        if (!this.daemons.has(dep) && !(dep in DAEMON_TYPES)) {
          throw new InvalidDaemonSpecError(
            d.type,
            `depends on '${dep}', which is neither registered nor a known daemon type`,
          );
        }
      }
    }
    this.plan([...this.daemons.keys()]); // throws DependencyCycleError
  }

  get(type: string): RegisteredDaemon | undefined {
    return this.daemons.get(type);
  }

  types(): string[] {
    return [...this.daemons.keys()];
  }

  /**
   * The members of a profile (a name from `PROFILES` or an explicit list), checked: every member
   * has a spec and every hard dependency of a member is a member.
   * @throws {InvalidDaemonSpecError} naming what is missing.
   */
  members(profile: string | readonly string[]): string[] {
    let names: readonly string[];
    if (typeof profile === 'string') {
      const listed = PROFILES[profile];
      if (!listed) {
        throw new InvalidDaemonSpecError(
          profile,
          `is not a profile (known: ${Object.keys(PROFILES).join(', ')})`,
        );
      }
      names = listed === 'all' ? this.types() : listed;
    } else {
      names = profile;
    }
    const missing = names.filter((n) => !this.daemons.has(n));
    if (missing.length > 0) {
      throw new InvalidDaemonSpecError(
        typeof profile === 'string' ? profile : 'profile',
        `needs daemons that have no spec: ${missing.join(', ')}`,
      );
    }
    const set = new Set(names);
    for (const name of names) {
      for (const dep of this.daemons.get(name)?.dependsOn ?? []) {
        if (!set.has(dep)) {
          throw new InvalidDaemonSpecError(
            name,
            `depends on '${dep}', which the profile does not start`,
          );
        }
      }
    }
    return [...set];
  }

  /** The start plan of some registered daemons. */
  plan(names: readonly string[]): StartPlan {
    return planStart(
      names.map((name) => {
        const d = this.daemons.get(name) as RegisteredDaemon;
        return {
          name,
          dependsOn: d.dependsOn,
          softDependsOn: d.softDependsOn,
          startupOrder: d.startupOrder,
        };
      }),
    );
  }
}

export { DependencyCycleError };
