// Counts the timers keeping the event loop alive, so a test can prove that everything
// it started cleaned up after itself (a leaked timer would also hold the process open).
export function activeTimerCount(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
