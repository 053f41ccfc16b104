// Discovery from a fixed member list (`--peers`). The list never changes while the
// node runs, so `start` reports it once; every listed member is taken as ready, and a
// member that is down simply fails its replica calls until it is back.
import type { Member } from '../../ring/member.js';
import type { Discovery } from '../discovery.js';

export class StaticDiscovery implements Discovery {
  constructor(private readonly members: readonly Member[]) {}

  async start(onChange: (members: readonly Member[]) => void): Promise<void> {
    onChange(this.members);
  }

  async stop(): Promise<void> {}
}
