// Discovery from a fixed member list (`--peers`). The list never changes while the
// node runs, so `start` reports it once; every listed member is taken as ready, and a
// member that is down simply fails its replica calls until it is back.
import type { Discovery, Member } from '../../ring/member.js';

export class StaticDiscovery implements Discovery {
  constructor(private readonly members: readonly Member[]) {}

  async start(onChange: (members: readonly Member[]) => void): Promise<void> {
    onChange(this.members);
  }

  async stop(): Promise<void> {}
}
