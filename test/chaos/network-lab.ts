// A throwaway network for chaos tests, made of Linux network namespaces: one hub
// namespace holding a bridge, and one namespace per node (plus one for the checker),
// each joined to the bridge by a veth pair, addressed in 10.77.0.0/24. Everything is
// created inside namespaces this lab made (the veth pairs are born in the hub), so the
// host's own interfaces, routes and firewall are never touched; close() deletes the
// namespaces, which removes their links and rules with them.
//
// Faults act inside one node's namespace (and, for a slow link, on the hub's end of
// its veth pair): iptables DROP rules (partition, random loss), link down, tc netem
// delay when the kernel has it, and a slow link (tc tbf) when it does not.
import { execFileSync, spawnSync } from 'node:child_process';

export const LAB_SUBNET = '10.77.0';

/** Why chaos tests cannot run here, or undefined when they can; throws instead under QKV_CHAOS_REQUIRED=1. */
export function chaosUnavailableReason(): string | undefined {
  const reason = probeUnavailableReason();
  // CI sets QKV_CHAOS_REQUIRED=1 (.ci/run), as it does QKV_K8S_REQUIRED: there a host
  // that cannot run the chaos test is a broken CI machine, not a reason to skip.
  if (reason !== undefined && process.env['QKV_CHAOS_REQUIRED'] === '1') throw new Error(`QKV_CHAOS_REQUIRED=1 but ${reason}`);
  return reason;
}

function probeUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'chaos tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'chaos tests need root (ip netns, iptables); CI runs as root';
  for (const tool of ['ip', 'iptables']) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error !== undefined) return `chaos tests need the ${tool} command (Debian: iproute2, iptables)`;
  }
  const probe = `qkvprobe${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
  if (made.status !== 0) return 'this host refuses to create network namespaces';
  spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return undefined;
}

function run(args: readonly string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class NetworkLab {
  readonly hub: string;
  readonly namespaces: string[] = [];
  /** Each host namespace's veth end in the hub, for faults on traffic towards it. */
  private readonly hubEnds = new Map<string, string>();

  private constructor(private readonly prefix: string) {
    this.hub = `${prefix}h`;
    run(['ip', 'netns', 'add', this.hub]);
    run(['ip', '-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
    run(['ip', '-n', this.hub, 'link', 'set', 'br0', 'up']);
  }

  /** A lab named after this process, so parallel runs never share a namespace. */
  static create(): NetworkLab {
    return new NetworkLab(`qkv${process.pid}`);
  }

  /** Adds a namespace on the bridge with address 10.77.0.<host>; returns its name. */
  addHost(name: string, host: number): string {
    const ns = `${this.prefix}${name}`;
    run(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    const hubEnd = `v${name}`;
    run(['ip', '-n', this.hub, 'link', 'add', hubEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run(['ip', '-n', this.hub, 'link', 'set', hubEnd, 'master', 'br0']);
    run(['ip', '-n', this.hub, 'link', 'set', hubEnd, 'up']);
    this.hubEnds.set(ns, hubEnd);
    run(['ip', '-n', ns, 'addr', 'add', `${LAB_SUBNET}.${host}/24`, 'dev', 'eth0']);
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Drops every packet between `ns` and the given addresses, both ways. */
  partition(ns: string, addresses: readonly string[]): void {
    for (const address of addresses) {
      run(['ip', 'netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-s', address, '-j', 'DROP']);
      run(['ip', 'netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-d', address, '-j', 'DROP']);
    }
  }

  /** Drops a random share of the packets `ns` receives and sends. */
  loss(ns: string, probability: number): void {
    for (const chain of ['INPUT', 'OUTPUT']) {
      run(['ip', 'netns', 'exec', ns, 'iptables', '-A', chain, '-m', 'statistic', '--mode', 'random', '--probability', String(probability), '-j', 'DROP']);
    }
  }

  /** Adds delay with tc netem; returns false (nothing done) when the kernel lacks netem. */
  delay(ns: string, delayMs: number, jitterMs: number): boolean {
    const result = spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${delayMs}ms`, `${jitterMs}ms`], {
      stdio: 'ignore',
    });
    return result.status === 0;
  }

  /**
   * A slow link both ways: a token bucket (tc tbf) of `rateKbit` on the node's eth0 and
   * on the hub's end of its veth pair, each queueing up to `queueMs` before dropping. A
   * kernel without sch_netem still has tbf; the delay it adds grows with the traffic
   * instead of being fixed, which is what a congested link does.
   */
  slowLink(ns: string, rateKbit: number, queueMs: number): void {
    const tbf = ['tbf', 'rate', `${rateKbit}kbit`, 'burst', '4kb', 'latency', `${queueMs}ms`];
    run(['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', ...tbf]);
    run(['ip', 'netns', 'exec', this.hub, 'tc', 'qdisc', 'add', 'dev', this.hubEndOf(ns), 'root', ...tbf]);
  }

  linkDown(ns: string): void {
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'down']);
  }

  /** Removes every fault of `ns`: firewall rules, qdisc, link state. */
  heal(ns: string): void {
    run(['ip', 'netns', 'exec', ns, 'iptables', '-F']);
    spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'exec', this.hub, 'tc', 'qdisc', 'del', 'dev', this.hubEndOf(ns), 'root'], { stdio: 'ignore' });
    run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  private hubEndOf(ns: string): string {
    const hubEnd = this.hubEnds.get(ns);
    if (hubEnd === undefined) throw new Error(`${ns} is not a host of this lab`);
    return hubEnd;
  }

  close(): void {
    for (const ns of [...this.namespaces, this.hub]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}
