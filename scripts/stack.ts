import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type SubgraphName, SUBGRAPHS, GATEWAY_PORT, SANDBOX_PORT } from '../lib/services';

/** True when this file runs compiled from dist/ (`npm run build`), so the services' compiled entries are beside it. */
const RUNS_COMPILED = path.extname(__filename) === '.js';
const ROOT = path.join(__dirname, RUNS_COMPILED ? '../..' : '..');
const DIST = path.join(ROOT, 'dist');

export type ProcessName = SubgraphName | 'gateway' | 'sandbox';

export interface StackOptions {
  subgraphs: SubgraphName[];
  gateway?: boolean;
  sandbox?: boolean;
  /** Environment for every process (DATABASE_URL, DB_PREFIX, PORT_OFFSET …); undefined unsets an inherited variable. */
  env: Record<string, string | undefined>;
  /** Where each process's output goes; inherits the terminal when unset. */
  logDir?: string;
  readyTimeoutMs?: number;
  /**
   * Run the compiled JavaScript in dist/ with plain node (a faster start) instead of the TypeScript through tsx;
   * the default is how this launcher itself runs. The caller builds dist/ first (scripts/build.ts).
   */
  compiled?: boolean;
}

/**
 * Runs every service in its own OS process (`node --import tsx`, or plain node on dist/), waits for each `/health`, and can
 * kill or restart one — what `npm start` does and what end-to-end tests need for crash scenarios.
 */
export class Stack {
  private readonly children = new Map<ProcessName, ChildProcess>();
  private readonly replicas: ChildProcess[] = [];
  private readonly offset: number;

  constructor(private readonly options: StackOptions) {
    this.offset = Number(options.env.PORT_OFFSET ?? 0);
  }

  get names(): ProcessName[] {
    return [
      ...(this.options.sandbox ? (['sandbox'] as const) : []),
      ...this.options.subgraphs,
      ...(this.options.gateway ? (['gateway'] as const) : []),
    ];
  }

  portOf(name: ProcessName): number {
    if (name === 'gateway') return GATEWAY_PORT + this.offset;
    if (name === 'sandbox') return SANDBOX_PORT + this.offset;
    return SUBGRAPHS[name] + this.offset;
  }

  /** The OS process id of a running service (benchmarks read its CPU time from /proc). */
  pidOf(name: ProcessName): number | undefined {
    return this.children.get(name)?.pid;
  }

  pidsOf(names: ProcessName[]): (number | undefined)[] {
    return names.map((name) => this.pidOf(name));
  }

  urlOf(name: ProcessName): string {
    return `http://localhost:${this.portOf(name)}`;
  }

  async start(): Promise<void> {
    const [sandbox, rest] = [
      this.names.filter((n) => n === 'sandbox'),
      this.names.filter((n) => n !== 'sandbox' && n !== 'gateway'),
    ];
    await Promise.all(sandbox.map((name) => this.startOne(name)));
    await Promise.all(rest.map((name) => this.startOne(name)));
    if (this.options.gateway) await this.startOne('gateway');
  }

  async startOne(name: ProcessName, extraEnv: Record<string, string> = {}): Promise<void> {
    const previous = this.children.get(name);
    // A child killed by a signal keeps exitCode null: only signalCode tells that it is gone.
    if (previous && previous.exitCode === null && previous.signalCode === null)
      throw new Error(`${name} is already running`);
    const child = this.spawnService(name, name, extraEnv);
    this.children.set(name, child);
    await this.waitUntilHealthy(name, child, this.urlOf(name));
  }

  /** One more process of a subgraph on its own port and the same database, as a second replica runs. */
  async startReplica(name: SubgraphName, port: number): Promise<string> {
    const child = this.spawnService(name, `${name}-replica-${port}`, { PORT: String(port) });
    this.replicas.push(child);
    const url = `http://localhost:${port}`;
    await this.waitUntilHealthy(`${name} replica`, child, url);
    return url;
  }

  private spawnService(name: ProcessName, logName: string, extraEnv: Record<string, string>): ChildProcess {
    const entry =
      name === 'gateway' ? 'gateway/index' : name === 'sandbox' ? 'sandbox/index' : `subgraphs/${name}/index`;
    const compiled = this.options.compiled ?? RUNS_COMPILED;
    const program = compiled ? [path.join(DIST, `${entry}.js`)] : ['--import', 'tsx', path.join(ROOT, `${entry}.ts`)];
    const out = this.options.logDir ? fs.openSync(path.join(this.options.logDir, `${logName}.log`), 'a') : 'inherit';
    // STACK_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") reaches every service, for profiling.
    const nodeFlags = (process.env.STACK_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const env = Object.fromEntries(
      Object.entries({ ...process.env, ...this.options.env, ...extraEnv }).filter(([, value]) => value !== undefined),
    );
    return spawn(process.execPath, [...nodeFlags, ...program], {
      cwd: ROOT,
      env,
      // The IPC channel lets a child notice when the launcher dies, however it dies (lib/process.ts).
      stdio: ['ignore', out, out, 'ipc'],
    });
  }

  /** Kills one process (SIGKILL simulates a crash) and waits until it is gone. */
  async kill(name: ProcessName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async restart(name: ProcessName, extraEnv: Record<string, string> = {}): Promise<void> {
    await this.kill(name, 'SIGTERM');
    await this.startOne(name, extraEnv);
  }

  async stop(): Promise<void> {
    // Gateway first so nothing new comes in, then the subgraphs, then the sandbox.
    const byName = (name: ProcessName) => this.children.get(name);
    const others = [...this.names].reverse().filter((name) => name !== 'gateway');
    const running = [byName('gateway'), ...this.replicas, ...others.map(byName)];
    for (const child of running) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }

  private async waitUntilHealthy(name: string, child: ChildProcess, baseUrl: string): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 90_000);
    const url = `${baseUrl}/health`;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        // The gateway answers 503 while a subgraph is down; it is up all the same.
        if (response.ok || name === 'gateway') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`${name} did not become healthy at ${url}`);
  }
}
