import type { Clock } from '../../lib/clock';

/** A clock that stands still until the test moves it, for time rules tested without waiting. */
export class TestClock implements Clock {
  private at: number;

  constructor(start = new Date()) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  advance(seconds: number): void {
    this.at += seconds * 1000;
  }
}
