// A pause that another event can cut short: a watch loop backing off, or a controller
// waiting for its next look, wakes at once when it is stopped or has news.

export class WakeableSleep {
  private wakeCurrent: (() => void) | undefined;

  /** Resolves after `ms`, or earlier on wake(). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeCurrent = done;
    });
  }

  /** Ends the running sleep, if any. */
  wake(): void {
    this.wakeCurrent?.();
  }
}
